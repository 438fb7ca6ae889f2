import { describe, expect, it } from "vitest";
import type { EventBus, Topic } from "./event-bus.ts";
import { listen, listenWithGaps, MISSED } from "./listen.ts";

const topic: Topic<number> = { name: "numbers" };

/** A bus the test drives by hand: what it publishes, when it reports a gap, who listens. */
function handBus() {
  const listeners = new Set<(event: unknown) => void>();
  const missed = new Set<() => void>();
  const bus: EventBus = {
    publish: async (_topic, event) => {
      for (const listener of listeners) listener(event);
    },
    subscribe: (_topic, listener, onMissed) => {
      const handler = listener as (event: unknown) => void;
      listeners.add(handler);
      if (onMissed) missed.add(onMissed);
      return {
        ready: Promise.resolve(),
        unsubscribe: () => {
          listeners.delete(handler);
          if (onMissed) missed.delete(onMissed);
        },
      };
    },
    close: async () => {},
  };
  const reportGap = () => {
    for (const onMissed of missed) onMissed();
  };
  return { bus, listeners, reportGap };
}

describe("listen", () => {
  it("hands out the events published after it resolved, in order, whether read before or after they came", async () => {
    const { bus } = handBus();
    const events = await listen(bus, topic, undefined);
    await bus.publish(topic, 1);
    await bus.publish(topic, 2);
    expect(await events.next()).toEqual({ done: false, value: 1 });
    expect(await events.next()).toEqual({ done: false, value: 2 });
    const waiting = events.next();
    await bus.publish(topic, 3);
    expect(await waiting).toEqual({ done: false, value: 3 });
  });

  it("ends a pending read and unsubscribes when the signal aborts", async () => {
    const { bus, listeners } = handBus();
    const controller = new AbortController();
    const events = await listen(bus, topic, controller.signal);
    const waiting = events.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(listeners.size).toBe(0);
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });

  it("unsubscribes when aborted before anyone reads, and when the reader stops early", async () => {
    const { bus, listeners } = handBus();
    const controller = new AbortController();
    await listen(bus, topic, controller.signal);
    expect(listeners.size).toBe(1);
    controller.abort();
    expect(listeners.size).toBe(0);

    const events = await listen(bus, topic, undefined);
    await bus.publish(topic, 1);
    for await (const event of events) {
      expect(event).toBe(1);
      break;
    }
    expect(listeners.size).toBe(0);
  });

  it("fails a slow reader once the buffer is full, after handing out what it holds", async () => {
    const { bus, listeners } = handBus();
    const events = await listen(bus, topic, undefined, 2);
    for (const n of [1, 2, 3]) await bus.publish(topic, n);
    expect(await events.next()).toEqual({ done: false, value: 1 });
    expect(await events.next()).toEqual({ done: false, value: 2 });
    await expect(events.next()).rejects.toThrow("Too many events waiting for a slow subscriber.");
    expect(listeners.size).toBe(0);
  });
});

describe("listenWithGaps", () => {
  it("marks a gap once however often the bus reports it before the reader comes back", async () => {
    const { bus, reportGap } = handBus();
    const events = await listenWithGaps(bus, topic, undefined);
    await bus.publish(topic, 1);
    reportGap();
    reportGap();
    await bus.publish(topic, 2);
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await events.next()).value);
    expect(seen).toEqual([1, MISSED, 2]);
  });

  it("turns a slow reader's overflow into one gap to re-read, instead of failing it", async () => {
    const { bus, listeners } = handBus();
    const events = await listenWithGaps(bus, topic, undefined, 2);
    for (const n of [1, 2, 3, 4]) await bus.publish(topic, n);
    expect(await events.next()).toEqual({ done: false, value: MISSED });
    expect(await events.next()).toEqual({ done: false, value: 4 });
    expect(listeners.size).toBe(1);
  });
});
