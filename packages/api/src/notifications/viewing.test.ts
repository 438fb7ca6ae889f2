import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createMemoryViewing, createRedisViewing, type Viewing } from "./viewing.ts";

const redisUrl = process.env["REDIS_URL"];

/** Two server processes' views of who views what: one memory store, or two Redis stores sharing a prefix. */
function stores(kind: "memory" | "redis", now: () => number = Date.now): [Viewing, Viewing] {
  if (kind === "memory") {
    const one = createMemoryViewing();
    return [one, one];
  }
  const prefix = `test-viewing-${randomUUID()}:`;
  const options = { url: redisUrl ?? "", expireMs: 3_000, prefix, now };
  return [createRedisViewing(options), createRedisViewing(options)];
}

const kinds = redisUrl ? (["memory", "redis"] as const) : (["memory"] as const);

describe.each(kinds)("viewing (%s)", (kind) => {
  it("is true while a visible connection has the conversation open, on any process", async () => {
    const [here, there] = stores(kind);
    try {
      const close = here.open("omar", "c1", "conv");
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(true);
      expect(await there.isViewing("omar", "other-conv")).toBe(false);
      expect(await there.isViewing("sara", "conv")).toBe(false);

      here.setVisible("omar", "c1", false);
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(false);

      // A second, visible tab of the same user still views it.
      const second = here.open("omar", "c2", "conv");
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(true);
      second();
      here.setVisible("omar", "c1", true);
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(true);
      close();
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(false);
    } finally {
      await here.close();
      if (there !== here) await there.close();
    }
  });

  it("forgets a connection that closed, hidden or not", async () => {
    const [here, there] = stores(kind);
    try {
      here.open("omar", "c1", "conv");
      here.open("omar", "c1", "conv");
      await settle(here);
      here.closed("omar", "c1");
      await settle(here);
      expect(await there.isViewing("omar", "conv")).toBe(false);
    } finally {
      await here.close();
      if (there !== here) await there.close();
    }
  });
});

describe.skipIf(!redisUrl)("viewing in Redis", () => {
  it("stops counting the records of a process that died once they expire", async () => {
    let time = Date.now();
    const [dying, alive] = stores("redis", () => time);
    try {
      dying.open("omar", "c1", "conv");
      await settle(dying);
      expect(await alive.isViewing("omar", "conv")).toBe(true);
      time += 3_001;
      expect(await alive.isViewing("omar", "conv")).toBe(false);
    } finally {
      await dying.close();
      await alive.close();
    }
  });
});

/** Lets the store's writes reach Redis: a read on the same connection is answered after them. */
async function settle(store: Viewing) {
  await store.isViewing("nobody", "nothing");
}
