import { describe, expect, it, vi } from "vitest";
import { createOutbox } from "./outbox.tsx";

describe("outbox", () => {
  it("keeps a send's clientMessageId through failure and retry, and forgets it once stored", () => {
    const outbox = createOutbox();
    const listener = vi.fn();
    outbox.subscribe(listener);

    const item = outbox.add("c1", "hello");
    outbox.update(item.clientMessageId, { status: "failed", error: "Can't reach the server." });
    expect(outbox.getSnapshot()).toEqual([{ ...item, status: "failed", error: "Can't reach the server." }]);

    outbox.update(item.clientMessageId, { status: "sending", error: null });
    expect(outbox.getSnapshot()[0]?.clientMessageId).toBe(item.clientMessageId);

    outbox.remove(item.clientMessageId);
    expect(outbox.getSnapshot()).toEqual([]);
    expect(listener).toHaveBeenCalledTimes(4);
  });

  it("gives every message its own clientMessageId", () => {
    const outbox = createOutbox();
    const a = outbox.add("c1", "same text");
    const b = outbox.add("c1", "same text");
    expect(a.clientMessageId).not.toBe(b.clientMessageId);
  });

  it("does not notify when removing what is not there", () => {
    const outbox = createOutbox();
    const listener = vi.fn();
    outbox.subscribe(listener);
    outbox.remove("unknown");
    expect(listener).not.toHaveBeenCalled();
  });
});
