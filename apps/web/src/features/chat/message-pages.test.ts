import { describe, expect, it } from "vitest";
import {
  addMessage,
  type ChatMessage,
  createReceipts,
  flatten,
  fromNew,
  type MessagePages,
  markOwnDelivered,
  markOwnRead,
  mergeNewestPage,
  withReceipts,
} from "./message-pages.ts";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

function message(seq: number, senderId = "sara"): ChatMessage {
  return {
    id: `m${seq}`,
    seq,
    senderId,
    content: `message ${seq}`,
    timestamp: at(seq),
    status: "sent",
    deliveredAt: null,
    readAt: null,
    clientMessageId: null,
  };
}

function pages(...pageSeqs: number[][]): MessagePages {
  return {
    pages: pageSeqs.map((seqs) => ({ messages: seqs.map((seq) => message(seq)), nextCursor: null })),
    pageParams: pageSeqs.map((_, i) => (i === 0 ? null : `cursor-${i}`)),
  };
}

describe("message pages", () => {
  it("adds a new message to the newest page once, whichever of send and live feed reports it first", () => {
    const once = addMessage(pages([3, 4], [1, 2]), message(5));
    const twice = addMessage(once, message(5));
    expect(flatten(twice).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(twice).toBe(once);
  });

  it("keeps seq order when a live message overtakes a send's answer", () => {
    const result = addMessage(addMessage(pages([1]), message(3)), message(2));
    expect(flatten(result).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("does nothing before the first page has loaded", () => {
    expect(addMessage(undefined, message(1))).toBeUndefined();
  });

  it("flattens pages oldest first without duplicates where pages overlap", () => {
    expect(flatten(pages([4, 5, 6], [2, 3, 4], [1])).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("marks only my messages sent up to the read time as read", () => {
    const data = pages([1, 2, 3]);
    const page = data.pages[0];
    if (!page) throw new Error("no page");
    page.messages[1] = message(2, "omar");
    const result = markOwnRead(data, "sara", at(2));
    expect(flatten(result).map((m) => [m.seq, m.status])).toEqual([
      [1, "read"],
      [2, "sent"],
      [3, "sent"],
    ]);
    expect(flatten(result)[0]?.readAt).toEqual(at(2));
  });

  it("marks my delivered messages delivered, and never takes a read one back to delivered", () => {
    const read = markOwnRead(pages([1, 2, 3]), "sara", at(1));
    const result = markOwnDelivered(read, "sara", ["m1", "m2"], at(4));
    expect(flatten(result).map((m) => [m.seq, m.status])).toEqual([
      [1, "read"],
      [2, "delivered"],
      [3, "sent"],
    ]);
    expect(flatten(result)[1]?.deliveredAt).toEqual(at(4));
  });

  it("applies receipts that arrived before their message", () => {
    const receipts = createReceipts();
    receipts.delivered.set("m5", at(6));
    const delivered = addMessage(pages([4]), withReceipts(message(5), "sara", receipts));
    expect(flatten(delivered).at(-1)?.status).toBe("delivered");

    receipts.readAt = at(7);
    expect(withReceipts(message(6), "sara", receipts).status).toBe("read");
    expect(withReceipts(message(8), "sara", receipts).status).toBe("sent");
    expect(withReceipts(message(6, "omar"), "sara", receipts).status).toBe("sent");
  });

  it("keeps live messages newer than a refetched newest page", () => {
    const previous = { messages: [message(1), message(2), message(3)], nextCursor: null };
    const fresh = { messages: [message(1), message(2)], nextCursor: null };
    expect(mergeNewestPage(fresh, previous).messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(mergeNewestPage(fresh, undefined)).toBe(fresh);
  });
});

describe("messages with attachments", () => {
  const photo = { id: "a1", name: "leak.png", mimeType: "image/png", size: 2048, width: 64, height: 48, url: "/u" };

  it("keep their type and attachments, from a live event or a send's answer", () => {
    const sent = fromNew({
      messageId: "m1",
      seq: 1,
      senderId: "sara",
      content: "",
      timestamp: at(1),
      clientMessageId: null,
      type: "image",
      attachments: [photo],
    });
    expect(sent).toMatchObject({ id: "m1", type: "image", attachments: [photo] });
  });

  it("carry no attachments field when they have none", () => {
    const plain = fromNew({
      messageId: "m2",
      seq: 2,
      senderId: "sara",
      content: "hi",
      timestamp: at(2),
      clientMessageId: null,
    });
    expect("attachments" in plain).toBe(false);
  });
});
