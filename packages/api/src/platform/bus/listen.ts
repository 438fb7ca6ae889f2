import type { EventBus, Topic } from "./event-bus.ts";

/** Stands in the event stream where events may have been lost (see `listenWithGaps`). */
export const MISSED = Symbol("events may have been missed");
export type Missed = typeof MISSED;

/**
 * Subscribes, waits until the subscription is live, and returns the events as an async
 * iterable that ends when `signal` aborts. Subscribing before the caller reads its backlog
 * is what makes catch-up gap-free. A consumer that falls `maxBuffered` events behind is
 * failed rather than allowed to grow memory without bound; its client reconnects and
 * catches up from the database.
 */
export function listen<T>(bus: EventBus, topic: Topic<T>, signal: AbortSignal | undefined, maxBuffered = 1_000) {
  return subscribeBuffered<T>(bus, topic, signal, maxBuffered, false) as Promise<AsyncGenerator<T>>;
}

/**
 * Like `listen`, but yields `MISSED` where events may have been dropped (the bus reconnected, or
 * the consumer fell `maxBuffered` behind), for subscribers that can re-read from the database.
 */
export function listenWithGaps<T>(
  bus: EventBus,
  topic: Topic<T>,
  signal: AbortSignal | undefined,
  maxBuffered = 1_000,
) {
  return subscribeBuffered<T>(bus, topic, signal, maxBuffered, true);
}

async function subscribeBuffered<T>(
  bus: EventBus,
  topic: Topic<T>,
  signal: AbortSignal | undefined,
  maxBuffered: number,
  reportMissed: boolean,
): Promise<AsyncGenerator<T | Missed>> {
  const buffer: (T | Missed)[] = [];
  let wake: (() => void) | undefined;
  let overflow = false;
  const push = (item: T | Missed) => {
    if (buffer.length < maxBuffered) buffer.push(item);
    else if (reportMissed)
      buffer.splice(0, buffer.length, MISSED); // re-read from the database instead
    else overflow = true;
    wake?.();
  };
  const subscription = bus.subscribe(topic, push, () => {
    // One marker is enough however often the bus reconnected while nobody was reading.
    if (reportMissed && buffer.at(-1) !== MISSED) push(MISSED);
  });
  // Also on abort: the caller may fail (say, reading its backlog) before it ever iterates.
  const onAbort = () => {
    subscription.unsubscribe();
    wake?.();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  await subscription.ready;

  async function* events(): AsyncGenerator<T | Missed> {
    try {
      while (!signal?.aborted) {
        if (buffer.length > 0) {
          yield buffer.shift() as T | Missed;
          continue;
        }
        if (overflow) throw new Error("Too many events waiting for a slow subscriber.");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      subscription.unsubscribe();
      signal?.removeEventListener("abort", onAbort);
    }
  }
  return events();
}

/** Stands in a stream where its deadline passed before the next event came (see `withDeadline`). */
export const DEADLINE = Symbol("deadline passed");
export type Deadline = typeof DEADLINE;

/**
 * Yields the events of `events`, and `DEADLINE` whenever the time `deadline()` returns (epoch
 * ms, asked again after each item; null for none) passes before the next event. Lets one
 * subscription react to silence (an expired "typing…", a presence re-check) without timers
 * outliving it.
 */
export async function* withDeadline<T>(
  events: AsyncIterable<T>,
  deadline: () => number | null,
): AsyncGenerator<T | Deadline> {
  const iterator = events[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | undefined;
  try {
    for (;;) {
      next ??= iterator.next();
      const at = deadline();
      let timer: NodeJS.Timeout | undefined;
      const result =
        at === null
          ? await next
          : await Promise.race([
              next,
              new Promise<Deadline>((resolve) => {
                timer = setTimeout(() => resolve(DEADLINE), Math.max(0, at - Date.now()));
              }),
            ]);
      clearTimeout(timer);
      if (result === DEADLINE) {
        yield DEADLINE;
        continue;
      }
      next = undefined;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // Not awaited: a pending next() settles only when the source ends (its signal aborts).
    void iterator.return?.();
  }
}
