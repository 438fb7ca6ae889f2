import { describe, expect, it } from "vitest";
import { createWriteTracker } from "./write-tracker.ts";

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

/** Whether `promise` has settled once every callback already queued has run. */
async function hasSettled(promise: Promise<unknown>) {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe("the write tracker", () => {
  it("drains at once when nothing is in flight", async () => {
    expect(await hasSettled(createWriteTracker().drain())).toBe(true);
  });

  it("drains once every write in flight has settled, a failed one and one started meanwhile too", async () => {
    const writes = createWriteTracker();
    const [first, second, third] = [deferred(), deferred(), deferred()];
    expect(writes.track(first.promise)).toBe(first.promise);
    writes.track(second.promise).catch(() => {});
    const drained = writes.drain();
    writes.track(third.promise);
    first.resolve();
    expect(await hasSettled(drained)).toBe(false);
    second.reject(new Error("database down"));
    expect(await hasSettled(drained)).toBe(false);
    third.resolve();
    expect(await hasSettled(drained)).toBe(true);
  });
});
