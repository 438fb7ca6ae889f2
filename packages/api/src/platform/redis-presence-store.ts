import { Redis } from "ioredis";
import { quitRedis } from "./bus/redis-bus.ts";
import type { PresenceStore } from "./presence.ts";

// Keys, under the prefix:
//   presence:<user>      sorted set: instance id → when that instance's record expires (ms)
//   presence-seen:<user> when the user was last seen (ms)
//   presence-online      sorted set: user → their newest record's expiry, to find the expired ones
// Each change is one Lua script, so instances racing on the same user cannot both announce it.

const JOIN = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
-- Kept one period past the newest record, so a sweep still learns when the user was last seen.
redis.call('PEXPIREAT', KEYS[1], tonumber(newest[2]) + tonumber(ARGV[5]))
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[4])
if before == 0 then return 1 end
return 0`;

const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[3]) == 0 then return 0 end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
return 1`;

const SWEEP_USER = `
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local remaining = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #remaining > 0 then
  redis.call('ZADD', KEYS[2], remaining[2], ARGV[2])
  return false
end
if redis.call('ZREM', KEYS[2], ARGV[2]) == 0 then return false end
local lastSeen = ARGV[1]
if #newest > 0 then lastSeen = tostring(math.floor(tonumber(newest[2]) - tonumber(ARGV[3]))) end
redis.call('SET', KEYS[3], lastSeen, 'PX', ARGV[4])
return lastSeen`;

/** How long a last-seen time is kept. */
const LAST_SEEN_KEEP_MS = 30 * 24 * 3600 * 1000;

export interface RedisPresenceStoreOptions {
  url: string;
  /** How long a record lasts without renewal; last seen is estimated as expiry minus this. */
  expireMs: number;
  prefix?: string;
  onError?: (error: unknown) => void;
}

/** Presence shared by every instance through Redis, with expiring records. */
export async function createRedisPresenceStore({
  url,
  expireMs,
  prefix = "naafe:",
  onError,
}: RedisPresenceStoreOptions): Promise<PresenceStore & { close(): Promise<void> }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    // Presence calls come again with the next heartbeat; failing fast beats queueing.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  redis.on("error", (error: unknown) => onError?.(error));
  await redis.connect();

  const connections = (userId: string) => `${prefix}presence:${userId}`;
  const seen = (userId: string) => `${prefix}presence-seen:${userId}`;
  const online = `${prefix}presence-online`;

  return {
    async join(userId, instanceId, now, expiresAt) {
      const joined = await redis.eval(
        JOIN,
        2,
        connections(userId),
        online,
        instanceId,
        now,
        expiresAt,
        userId,
        expireMs,
      );
      return joined === 1;
    },
    async leave(userId, instanceId, now) {
      const left = await redis.eval(
        LEAVE,
        3,
        connections(userId),
        online,
        seen(userId),
        instanceId,
        now,
        userId,
        LAST_SEEN_KEEP_MS,
      );
      return left === 1;
    },
    async sweep(now) {
      const expired = await redis.zrangebyscore(online, "-inf", now, "LIMIT", 0, 500);
      const gone: { userId: string; lastSeen: number }[] = [];
      for (const userId of expired) {
        const lastSeen = await redis.eval(
          SWEEP_USER,
          3,
          connections(userId),
          online,
          seen(userId),
          now,
          userId,
          expireMs,
          LAST_SEEN_KEEP_MS,
        );
        if (typeof lastSeen === "string") gone.push({ userId, lastSeen: Number(lastSeen) });
      }
      return gone;
    },
    async get(userId, now) {
      const [newest, lastSeen] = await Promise.all([
        redis.zrevrange(connections(userId), 0, 0, "WITHSCORES"),
        redis.get(seen(userId)),
      ]);
      const newestExpiry = newest[1] === undefined ? null : Number(newest[1]);
      if (newestExpiry !== null && newestExpiry > now) return { online: true, lastSeen: null };
      // An instance that died leaves a record behind until the sweep: its last renewal is the best guess.
      const candidates = [
        lastSeen === null ? null : Number(lastSeen),
        newestExpiry === null ? null : newestExpiry - expireMs,
      ];
      const known = candidates.filter((value): value is number => value !== null);
      return { online: false, lastSeen: known.length > 0 ? Math.max(...known) : null };
    },
    close: () => quitRedis(redis),
  };
}
