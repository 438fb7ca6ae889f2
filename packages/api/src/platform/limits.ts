import { Redis } from "ioredis";
import { DomainError } from "../errors.ts";

export interface RateLimit {
  /** How many calls may come at once. */
  burst: number;
  /** How fast the allowance refills. */
  perSecond: number;
}

/** A token bucket per key: `take` spends one token or throws TOO_MANY_REQUESTS with a retry-after. */
export interface RateLimiter {
  take(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Seconds until one token is back, for a bucket holding `tokens`. */
function refused({ perSecond }: RateLimit, tokens: number, what: string): DomainError {
  const retryAfter = Math.max(1, Math.ceil((1 - tokens) / perSecond));
  return new DomainError("TOO_MANY_REQUESTS", `You are ${what} too fast; try again in ${retryAfter} s.`, retryAfter);
}

/** The single-process limiter. */
export function createMemoryRateLimiter(limit: RateLimit, what = "sending", now = () => Date.now()): RateLimiter {
  const { burst, perSecond } = limit;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async take(key) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: time };
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * perSecond);
      bucket.at = time;
      if (bucket.tokens < 1) {
        buckets.set(key, bucket);
        throw refused(limit, bucket.tokens, what);
      }
      bucket.tokens -= 1;
      // Full buckets carry no information; dropping them keeps memory bounded by active users.
      if (bucket.tokens >= burst - 1 && buckets.size > 100_000) buckets.delete(key);
      else buckets.set(key, bucket);
    },
    async close() {},
  };
}

// The same bucket, kept in Redis and updated atomically with Redis's own clock, so every
// instance spends from one allowance per user.
const TAKE = `
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = math.min(burst, (tonumber(b[1]) or burst) + (now - (tonumber(b[2]) or now)) / 1000 * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}`;

/**
 * The limiter shared by several instances. While Redis is unreachable it falls back to a
 * per-process bucket: limits loosen for a moment rather than the chat stopping.
 */
export function createRedisRateLimiter(
  url: string,
  name: string,
  limit: RateLimit,
  what = "sending",
  onError?: (error: unknown) => void,
): RateLimiter & { ready(): Promise<void> } {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Sends arriving together take their tokens in one round trip.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  redis.on("error", (error) => onError?.(error));
  const fallback = createMemoryRateLimiter(limit, what);
  return {
    async take(key) {
      // Not waiting for a reconnect: a send must not stall on a Redis outage.
      if (redis.status !== "ready") return fallback.take(key);
      let result: [number, string];
      try {
        result = (await redis.eval(TAKE, 1, `naafe:limit:${name}:${key}`, limit.burst, limit.perSecond)) as [
          number,
          string,
        ];
      } catch (error) {
        onError?.(error);
        return fallback.take(key);
      }
      if (result[0] !== 1) throw refused(limit, Number(result[1]), what);
    },
    /** Resolves once connected (tests; in service the fallback covers the first moments). */
    ready() {
      return redis.status === "ready" ? Promise.resolve() : new Promise((resolve) => redis.once("ready", resolve));
    },
    async close() {
      redis.disconnect();
    },
  };
}
