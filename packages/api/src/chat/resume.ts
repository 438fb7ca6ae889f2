import { MISSED, type Missed } from "../platform/bus/listen.ts";

export interface ResumeOptions<T> {
  /** Live events, subscribed to before `startSeq` was read (see `listenWithGaps`). */
  live: AsyncIterable<T | Missed>;
  /** Stored events after `afterSeq` (up to `untilSeq`), in order. */
  readAfter: (afterSeq: number, untilSeq?: number) => AsyncIterable<T>;
  /** The last event the client has. */
  startSeq: number;
}

/**
 * A resumable stream of seq-ordered events: first what is stored after `startSeq`, then live
 * events, re-read from the store wherever the live stream has a gap (an event lost on the bus,
 * a bus that reconnected, a reader that fell behind). No gap, no duplicate.
 */
export async function* resume<T extends { seq: number }>({ live, readAfter, startSeq }: ResumeOptions<T>) {
  let lastSeq = startSeq;
  for await (const event of readAfter(lastSeq)) {
    yield event;
    lastSeq = event.seq;
  }
  for await (const event of live) {
    if (event === MISSED || event.seq > lastSeq + 1) {
      for await (const stored of readAfter(lastSeq, event === MISSED ? undefined : event.seq - 1)) {
        yield stored;
        lastSeq = stored.seq;
      }
    }
    if (event === MISSED || event.seq <= lastSeq) continue; // already read from the store
    yield event;
    lastSeq = event.seq;
  }
}
