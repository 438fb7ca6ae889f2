/** Counts the writes in flight, so a graceful shutdown can wait for acknowledged ones to finish. */
export function createWriteTracker() {
  let inFlight = 0;
  let whenIdle: (() => void)[] = [];
  const finished = () => {
    if (--inFlight > 0) return;
    const waiting = whenIdle;
    whenIdle = [];
    for (const wake of waiting) wake();
  };
  return {
    track<T>(write: Promise<T>): Promise<T> {
      inFlight++;
      write.then(finished, finished);
      return write;
    },
    /** Resolves once no write is in flight. */
    async drain() {
      while (inFlight > 0) await new Promise<void>((resolve) => whenIdle.push(resolve));
    },
  };
}

export type WriteTracker = ReturnType<typeof createWriteTracker>;
