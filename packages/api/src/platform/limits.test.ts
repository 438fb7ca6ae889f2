import { describe, expect, it, vi } from "vitest";
import { createMemoryRateLimiter, createRedisRateLimiter } from "./limits.ts";

const limit = { burst: 3, perSecond: 1 };
const refused = expect.objectContaining({ code: "TOO_MANY_REQUESTS", retryAfter: 1 });

describe("memory rate limiter", () => {
  it("allows a burst, refuses with a retry-after, then refills at the steady rate", async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter(limit, "sending", () => now);
    for (let i = 0; i < 3; i++) await limiter.take("sara");
    await expect(limiter.take("sara")).rejects.toEqual(refused);
    await limiter.take("omar"); // buckets are per key
    now += 1_000;
    await limiter.take("sara");
    await expect(limiter.take("sara")).rejects.toMatchObject({
      message: "You are sending too fast; try again in 1 s.",
    });
  });
});

const redisUrl = process.env["REDIS_URL"];

describe.skipIf(!redisUrl)("Redis rate limiter (REDIS_URL)", () => {
  it("shares one allowance per user between instances", async () => {
    const name = `test-${Math.random().toString(36).slice(2)}`;
    const instanceA = createRedisRateLimiter(redisUrl ?? "", name, limit);
    const instanceB = createRedisRateLimiter(redisUrl ?? "", name, limit);
    try {
      await Promise.all([instanceA.ready(), instanceB.ready()]);
      await instanceA.take("sara");
      await instanceB.take("sara");
      await instanceA.take("sara");
      await expect(instanceB.take("sara")).rejects.toEqual(refused);
      await expect(instanceA.take("sara")).rejects.toEqual(refused);
      await instanceB.take("omar");
    } finally {
      await Promise.all([instanceA.close(), instanceB.close()]);
    }
  });

  it("still limits, per process, while Redis is unreachable", async () => {
    const errors: unknown[] = [];
    const limiter = createRedisRateLimiter("redis://127.0.0.1:1", "down", limit, "sending", (e) => errors.push(e));
    try {
      for (let i = 0; i < 3; i++) await limiter.take("sara");
      await expect(limiter.take("sara")).rejects.toEqual(refused);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
    } finally {
      await limiter.close();
    }
  });
});
