import { describe, expect, it } from "vitest";
import { publishBestEffort } from "./bus/event-bus.ts";
import { createMemoryBus } from "./bus/memory-bus.ts";
import { createMemoryPresenceStore, createPresenceService } from "./presence.ts";

describe("the presence heartbeat", () => {
  it("renews every connected user, a slice per turn of the event loop rather than all at once", async () => {
    const store = createMemoryPresenceStore();
    const renewed: string[] = [];
    const join: typeof store.join = (userId, ...rest) => {
      renewed.push(userId);
      return store.join(userId, ...rest);
    };
    const bus = createMemoryBus();
    const presence = createPresenceService({
      publish: publishBestEffort(bus, () => {}),
      store: { ...store, join },
    });
    const users = Array.from({ length: 1_000 }, (_, i) => `user${i}`);
    for (const userId of users) presence.connect(userId);
    await new Promise((resolve) => setImmediate(resolve));
    renewed.length = 0;

    // Ten thousand users renewed in one turn held the event loop for 80 ms: between slices,
    // other work (here, this check) gets its turn.
    let renewedBeforeOtherWork = -1;
    setImmediate(() => {
      renewedBeforeOtherWork = renewed.length;
    });
    await presence.heartbeat();
    expect(renewedBeforeOtherWork).toBeGreaterThan(0);
    expect(renewedBeforeOtherWork).toBeLessThan(users.length);
    expect(renewed.sort()).toEqual([...users].sort());
    await presence.close();
  });
});
