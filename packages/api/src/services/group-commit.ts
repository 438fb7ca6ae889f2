/** Most writes in flight at once: while they run, new items queue and go out together next. */
const IN_FLIGHT = 2;
/** Most items in one write (bounded statement size). */
const BATCH_MAX = 256;

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while the database is busy are written together by one
 * statement, one transaction, one commit. An idle server writes each item at once (after the
 * current I/O callbacks, so items that arrived together still go together); a busy one writes
 * ever larger batches instead of queueing ever more statements. `write` answers each item, in
 * order. (DataLoader and friends batch per tick regardless of what is in flight, and
 * atomic-batcher returns no per-item results, hence these few lines.)
 */
export function createGroupCommit<T, R>(write: (items: T[]) => Promise<R[]>) {
  const queue: Pending<T, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  function flush() {
    scheduled = false;
    while (inFlight < IN_FLIGHT && queue.length > 0) {
      const batch = queue.splice(0, BATCH_MAX);
      inFlight++;
      write(batch.map((pending) => pending.item))
        .then(
          (results) => {
            for (const [index, pending] of batch.entries()) pending.resolve(results[index] as R);
          },
          (error: unknown) => {
            for (const pending of batch) pending.reject(error);
          },
        )
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  }

  return function submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled && inFlight < IN_FLIGHT) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
}
