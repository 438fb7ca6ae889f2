import { describe, expect, it } from "vitest";
import type { ChatMessage, MessagePages } from "../chat/message-pages.ts";
import { applyChange } from "./message-changes.ts";

const message = (id: string, seq: number, content: string): ChatMessage => ({
  id,
  seq,
  senderId: "omar",
  content,
  timestamp: new Date(2026, 0, 1, 10, seq),
  status: "sent",
  deliveredAt: null,
  readAt: null,
  clientMessageId: null,
});

const pages = (): MessagePages => ({
  pageParams: [null, "m2"],
  pages: [
    { messages: [message("m2", 2, "second"), message("m3", 3, "call 010 ••• ")], nextCursor: "m2" },
    { messages: [message("m1", 1, "first")], nextCursor: null },
  ],
});

describe("applyChange", () => {
  it("replaces an edited message's text and marks it edited, in whichever page holds it", () => {
    const next = applyChange(pages(), { messageId: "m1", kind: "edited", content: "first, fixed" });
    expect(next?.pages[1]?.messages[0]).toMatchObject({ content: "first, fixed", edited: true });
    expect(next?.pages[0]?.messages.map((m) => m.content)).toEqual(["second", "call 010 ••• "]);
  });

  it("takes the masking of the edited text", () => {
    const next = applyChange(pages(), { messageId: "m3", kind: "edited", content: "see you", masked: false });
    expect(next?.pages[0]?.messages[1]).toMatchObject({ content: "see you", masked: false, edited: true });
  });

  it("empties a deleted message and drops its masking flags", () => {
    const next = applyChange(pages(), { messageId: "m3", kind: "deleted", content: "" });
    expect(next?.pages[0]?.messages[1]).toMatchObject({
      content: "",
      deleted: true,
      masked: false,
      maskedForReceiver: false,
    });
  });

  it("leaves the pages as they are when the message is not loaded", () => {
    const before = pages();
    expect(applyChange(before, { messageId: "m9", kind: "deleted", content: "" })).toBe(before);
    expect(applyChange(undefined, { messageId: "m1", kind: "deleted", content: "" })).toBeUndefined();
  });
});
