import { describe, expect, it, vi } from "vitest";
import { createGroupCommit } from "./group-commit.ts";

/** A write the test finishes by hand, recording what each call was given. */
function controlledWrite() {
  const calls: { items: number[]; finish: () => void; fail: (error: Error) => void }[] = [];
  const write = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      calls.push({ items, finish: () => resolve(items.map((item) => item * 10)), fail: reject });
    });
  return { calls, write };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("createGroupCommit", () => {
  it("writes what arrives together in one call, and answers each item with its own result", async () => {
    const { calls, write } = controlledWrite();
    const submit = createGroupCommit(write);
    const answers = Promise.all([submit(1), submit(2), submit(3)]);
    await settle();
    expect(calls.map((call) => call.items)).toEqual([[1, 2, 3]]);
    calls[0]?.finish();
    expect(await answers).toEqual([10, 20, 30]);
  });

  it("queues while two writes are in flight and sends the queue as one write when one ends", async () => {
    const { calls, write } = controlledWrite();
    const submit = createGroupCommit(write);
    const first = submit(1);
    await settle();
    const second = submit(2);
    await settle();
    const queued = [submit(3), submit(4), submit(5)];
    await settle();
    expect(calls.map((call) => call.items)).toEqual([[1], [2]]);
    calls[1]?.finish();
    await settle();
    expect(calls.map((call) => call.items)).toEqual([[1], [2], [3, 4, 5]]);
    calls[0]?.finish();
    calls[2]?.finish();
    expect(await Promise.all([first, second, ...queued])).toEqual([10, 20, 30, 40, 50]);
  });

  it("fails only the items of the write that failed", async () => {
    const { calls, write } = controlledWrite();
    const submit = createGroupCommit(write);
    const failing = [submit(1), submit(2)];
    await settle();
    const later = submit(3);
    await settle();
    calls[0]?.fail(new Error("database down"));
    await expect(Promise.all(failing)).rejects.toThrow("database down");
    calls[1]?.finish();
    expect(await later).toBe(30);
  });

  it("caps a write's size and sends the rest in the next", async () => {
    const { calls, write } = controlledWrite();
    const submit = createGroupCommit(write);
    const all = Array.from({ length: 600 }, (_, i) => submit(i));
    await settle();
    expect(calls.map((call) => call.items.length)).toEqual([256, 256]);
    calls[0]?.finish();
    await settle();
    expect(calls.map((call) => call.items.length)).toEqual([256, 256, 88]);
    calls[1]?.finish();
    calls[2]?.finish();
    expect((await Promise.all(all)).at(-1)).toBe(5990);
  });

  it("with a linger, an idle batcher waits that long and writes everything that came meanwhile at once", async () => {
    vi.useFakeTimers();
    try {
      const { calls, write } = controlledWrite();
      const submit = createGroupCommit(write, { lingerMs: 20 });
      const answers = [submit(1)];
      await vi.advanceTimersByTimeAsync(19);
      answers.push(submit(2), submit(3));
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls.map((call) => call.items)).toEqual([[1, 2, 3]]);
      calls[0]?.finish();
      expect(await Promise.all(answers)).toEqual([10, 20, 30]);
    } finally {
      vi.useRealTimers();
    }
  });
});
