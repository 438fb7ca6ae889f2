import { EventEmitter } from "node:events";
import type { EventBus } from "./event-bus.ts";

/** The single-process bus: events reach subscribers in the same process only, and never get lost. */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  // One listener per open subscription; thousands are normal, not a leak.
  emitter.setMaxListeners(0);
  return {
    async publish(topic, event) {
      emitter.emit(topic.name, event);
    },
    subscribe(topic, listener) {
      const handler = listener as (event: unknown) => void;
      emitter.on(topic.name, handler);
      return { ready: Promise.resolve(), unsubscribe: () => emitter.off(topic.name, handler) };
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
