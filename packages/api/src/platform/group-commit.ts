export interface GroupCommitOptions {
  /** Most writes in flight at once: while they run, new items queue and go out together next. */
  maxInFlight?: number;
  /** Most items in one write (bounded statement size). */
  maxBatch?: number;
  /**
   * How long the first item of an idle batcher waits for company. 0 writes it after the current
   * I/O callbacks, so items that arrived together still go together.
   */
  lingerMs?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while the database is busy are written together by one
 * statement, one transaction, one commit. An idle batcher writes soon; a busy one writes ever
 * larger batches instead of queueing ever more statements. `write` answers each item, in order.
 * (DataLoader and friends batch per tick regardless of what is in flight, and atomic-batcher
 * returns no per-item results, hence these few lines.)
 */
export function createGroupCommit<T, R>(
  write: (items: T[]) => Promise<R[]>,
  { maxInFlight = 2, maxBatch = 256, lingerMs = 0 }: GroupCommitOptions = {},
) {
  const queue: Pending<T, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  function flush() {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
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
          // A lingering batcher waits again, so what came meanwhile goes out together.
          if (lingerMs > 0) schedule();
          else flush();
        });
    }
  }

  function schedule() {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    if (lingerMs > 0) setTimeout(flush, lingerMs);
    else setImmediate(flush);
  }

  return function submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      schedule();
    });
  };
}
