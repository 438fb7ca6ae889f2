import { describe, expect, it } from "vitest";
import { createWriteTracker } from "./context.ts";

/** A promise settled from outside. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settledSoon = (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 20))]);

describe("the write tracker", () => {
  it("drains at once when nothing is in flight", async () => {
    await expect(settledSoon(createWriteTracker().drain())).resolves.toBe(true);
  });

  it("drains once every write in flight has settled, a failed one and one started meanwhile too", async () => {
    const writes = createWriteTracker();
    const [first, second, third] = [deferred(), deferred(), deferred()];
    expect(writes.track(first.promise)).toBe(first.promise);
    writes.track(second.promise).catch(() => {});
    const drained = writes.drain();
    writes.track(third.promise);
    first.resolve();
    await expect(settledSoon(drained)).resolves.toBe(false);
    second.reject(new Error("database down"));
    await expect(settledSoon(drained)).resolves.toBe(false);
    third.resolve();
    await expect(settledSoon(drained)).resolves.toBe(true);
  });
});
