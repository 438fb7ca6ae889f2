import { DomainError } from "../errors.ts";

export interface RateLimit {
  /** How many calls may come at once. */
  burst: number;
  /** How fast the allowance refills. */
  perSecond: number;
}

/** A token bucket per key, in memory. */
export function createRateLimiter({ burst, perSecond }: RateLimit, now = () => Date.now()) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes one token for `key`, or throws TOO_MANY_REQUESTS with the seconds to wait. */
    take(key: string) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: time };
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * perSecond);
      bucket.at = time;
      if (bucket.tokens < 1) {
        buckets.set(key, bucket);
        const retryAfter = Math.ceil((1 - bucket.tokens) / perSecond);
        throw new DomainError(
          "TOO_MANY_REQUESTS",
          `You are sending too fast; try again in ${retryAfter} s.`,
          retryAfter,
        );
      }
      bucket.tokens -= 1;
      // Full buckets carry no information; dropping them keeps memory bounded by active users.
      if (bucket.tokens >= burst - 1 && buckets.size > 100_000) buckets.delete(key);
      else buckets.set(key, bucket);
    },
  };
}
