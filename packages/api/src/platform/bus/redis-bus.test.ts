import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRedisPresenceStore } from "../redis-presence-store.ts";
import type { EventBus, Topic } from "./event-bus.ts";
import { createRedisBus } from "./redis-bus.ts";

const url = process.env["REDIS_URL"];

describe.skipIf(!url)("Redis bus and presence store", () => {
  // A prefix of its own, so parallel runs sharing one Redis never meet.
  const prefix = `test-${randomBytes(4).toString("hex")}:`;
  let admin: Redis;
  let a: EventBus;
  let b: EventBus;

  beforeAll(async () => {
    admin = new Redis(url as string);
    [a, b] = await Promise.all([
      createRedisBus({ url: url as string, prefix }),
      createRedisBus({ url: url as string, prefix }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
  });

  it("carries events between buses with Dates intact, one Redis subscription per topic", async () => {
    const topic: Topic<{ at: Date; n: number }> = { name: "demo" };
    const first: unknown[] = [];
    const second: unknown[] = [];
    const one = b.subscribe(topic, (event) => first.push(event));
    const two = b.subscribe(topic, (event) => second.push(event));
    await Promise.all([one.ready, two.ready]);
    expect(await admin.pubsub("NUMSUB", `${prefix}demo`)).toEqual([`${prefix}demo`, 1]);

    const at = new Date("2026-01-02T03:04:05.678Z");
    await a.publish(topic, { at, n: 1 });
    await vi.waitFor(() => expect(second).toEqual([{ at, n: 1 }]));
    expect(first).toEqual([{ at, n: 1 }]);

    one.unsubscribe();
    expect(await admin.pubsub("NUMSUB", `${prefix}demo`)).toEqual([`${prefix}demo`, 1]);
    two.unsubscribe();
    await vi.waitFor(async () => expect(await admin.pubsub("NUMSUB", `${prefix}demo`)).toEqual([`${prefix}demo`, 0]));
  });

  it("keeps presence per instance with expiry, announcing each change once", async () => {
    const store = await createRedisPresenceStore({ url: url as string, prefix, expireMs: 1_000 });
    try {
      const now = Date.now();
      expect(await store.get("u", now)).toEqual({ online: false, lastSeen: null });
      expect(await store.join("u", "i1", now, now + 1_000)).toBe(true);
      expect(await store.join("u", "i2", now, now + 1_000)).toBe(false); // already online
      expect(await store.leave("u", "i1", now + 10)).toBe(false); // still on i2
      expect(await store.get("u", now + 20)).toEqual({ online: true, lastSeen: null });
      // i2 dies: nobody leaves, the record expires, the sweep reports it once.
      expect(await store.sweep(now + 500)).toEqual([]);
      expect(await store.get("u", now + 1_500)).toEqual({ online: false, lastSeen: now });
      expect(await store.sweep(now + 1_500)).toEqual([{ userId: "u", lastSeen: now }]);
      expect(await store.sweep(now + 1_600)).toEqual([]);
      // Back, and a clean goodbye.
      expect(await store.join("u", "i3", now + 2_000, now + 3_000)).toBe(true);
      expect(await store.leave("u", "i3", now + 2_100)).toBe(true);
      expect(await store.get("u", now + 2_200)).toEqual({ online: false, lastSeen: now + 2_100 });
    } finally {
      await store.close();
    }
  });
});
