import type { EventBus, Topic } from "./event-bus.ts";

/**
 * Subscribes at once and returns the events as an async iterable that ends when `signal`
 * aborts. Subscribing before the caller reads its backlog is what makes catch-up gap-free.
 * A consumer that falls `maxBuffered` events behind is failed rather than allowed to grow
 * memory without bound; its client reconnects and catches up from the database.
 */
export function listen<T>(bus: EventBus, topic: Topic<T>, signal: AbortSignal | undefined, maxBuffered = 1_000) {
  const buffer: T[] = [];
  let wake: (() => void) | undefined;
  let overflow = false;
  const unsubscribe = bus.subscribe(topic, (event) => {
    if (buffer.length >= maxBuffered) overflow = true;
    else buffer.push(event);
    wake?.();
  });
  // Also on abort: the caller may fail (say, reading its backlog) before it ever iterates.
  const onAbort = () => {
    unsubscribe();
    wake?.();
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  async function* events(): AsyncGenerator<T> {
    try {
      while (!signal?.aborted) {
        const event = buffer.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (overflow) throw new Error("Too many events waiting for a slow subscriber.");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
    }
  }
  return events();
}
