import type { InfiniteData } from "@tanstack/react-query";
import type { RouterOutputs } from "../../trpc.ts";

type StoredMessage = RouterOutputs["chat"]["messages"]["messages"][number];

/** What the view needs of a message, whether it came from history, the live feed or a send. */
export type ChatMessage = Pick<
  StoredMessage,
  "id" | "seq" | "senderId" | "content" | "timestamp" | "status" | "deliveredAt" | "readAt" | "clientMessageId"
> &
  Partial<Pick<StoredMessage, "type" | "attachments" | "masked" | "maskedForReceiver" | "edited" | "deleted">>;

export type MessageStatus = ChatMessage["status"];

/** A live event or a send's answer: the message under its `messageId`, before it reached anyone. */
export type NewMessage = Pick<
  ChatMessage,
  | "seq"
  | "senderId"
  | "content"
  | "timestamp"
  | "clientMessageId"
  | "type"
  | "attachments"
  | "masked"
  | "maskedForReceiver"
  | "edited"
  | "deleted"
> & {
  messageId: string;
};

/** The trust-and-safety flags a message carries (masking, edits, deletion), copied when present. */
function flagsOf(message: Partial<Pick<ChatMessage, "masked" | "maskedForReceiver" | "edited" | "deleted">>) {
  const { masked, maskedForReceiver, edited, deleted } = message;
  return {
    ...(masked === undefined ? {} : { masked }),
    ...(maskedForReceiver === undefined ? {} : { maskedForReceiver }),
    ...(edited === undefined ? {} : { edited }),
    ...(deleted === undefined ? {} : { deleted }),
  };
}

export interface MessagePage {
  /** Oldest first. */
  messages: ChatMessage[];
  /** The `before` cursor of the next older page; null at the start of the conversation. */
  nextCursor: string | null;
}

/** Page 0 is the newest; later pages are older. */
export type MessagePages = InfiniteData<MessagePage>;

export function fromStored(message: StoredMessage): ChatMessage {
  const { id, seq, senderId, content, timestamp, status, deliveredAt, readAt, clientMessageId } = message;
  return {
    id,
    seq,
    senderId,
    content,
    timestamp,
    status,
    deliveredAt,
    readAt,
    clientMessageId,
    ...typed(message),
    ...flagsOf(message),
  };
}

/** A message's type and attachments, when it carries them. */
function typed(message: Pick<ChatMessage, "type" | "attachments">): Pick<ChatMessage, "type" | "attachments"> {
  return {
    ...(message.type ? { type: message.type } : {}),
    ...(message.attachments?.length ? { attachments: message.attachments } : {}),
  };
}

export function fromNew(message: NewMessage): ChatMessage {
  const { messageId, seq, senderId, content, timestamp, clientMessageId } = message;
  return {
    ...typed(message),
    id: messageId,
    seq,
    senderId,
    content,
    timestamp,
    status: "sent",
    deliveredAt: null,
    readAt: null,
    clientMessageId,
    ...flagsOf(message),
  };
}

/** Adds a message to the newest page unless it is already there (live feed and send both report it). */
export function addMessage(pages: MessagePages | undefined, message: ChatMessage): MessagePages | undefined {
  if (!pages?.pages[0]) return pages;
  if (pages.pages.some((page) => page.messages.some((m) => m.id === message.id))) return pages;
  const [newest, ...older] = pages.pages;
  const messages = [...newest.messages, message].sort((a, b) => a.seq - b.seq);
  return { ...pages, pages: [{ ...newest, messages }, ...older] };
}

/** Applies `update` to every loaded message of `me`'s (receipts only ever concern one's own messages). */
function updateOwn(
  pages: MessagePages | undefined,
  me: string,
  update: (message: ChatMessage) => ChatMessage,
): MessagePages | undefined {
  if (!pages) return pages;
  return {
    ...pages,
    pages: pages.pages.map((page) => ({
      ...page,
      messages: page.messages.map((m) => (m.senderId === me ? update(m) : m)),
    })),
  };
}

/**
 * Receipts that may arrive before the message they are about: a delivery is often reported
 * (over the socket) before the send's answer (over HTTP) adds the message to the pages.
 * Kept per open conversation and applied to each message as it is added.
 */
export interface Receipts {
  /** Message id → when it reached the other participant. */
  delivered: Map<string, Date>;
  /** The other participant's latest read: everything `me` sent up to then is read. */
  readAt: Date | null;
}

export function createReceipts(): Receipts {
  return { delivered: new Map(), readAt: null };
}

/** One of `me`'s messages with what the receipts say about it; never moves a status backwards. */
export function withReceipts(message: ChatMessage, me: string, receipts: Receipts): ChatMessage {
  if (message.senderId !== me || message.status === "read") return message;
  const { readAt } = receipts;
  if (readAt && message.timestamp <= readAt) {
    return { ...message, status: "read", readAt, deliveredAt: message.deliveredAt ?? readAt };
  }
  const deliveredAt = receipts.delivered.get(message.id);
  if (deliveredAt && message.status === "sent") return { ...message, status: "delivered", deliveredAt };
  return message;
}

/** The other participant read what `me` had sent them by `readAt`. */
export function markOwnRead(pages: MessagePages | undefined, me: string, readAt: Date): MessagePages | undefined {
  const receipts: Receipts = { delivered: new Map(), readAt };
  return updateOwn(pages, me, (m) => withReceipts(m, me, receipts));
}

/** Some of `me`'s messages reached a session of the other participant at `deliveredAt`. */
export function markOwnDelivered(
  pages: MessagePages | undefined,
  me: string,
  messageIds: readonly string[],
  deliveredAt: Date,
): MessagePages | undefined {
  const receipts: Receipts = { delivered: new Map(messageIds.map((id) => [id, deliveredAt])), readAt: null };
  return updateOwn(pages, me, (m) => withReceipts(m, me, receipts));
}

/**
 * A refetched newest page, plus what the live feed added to the old one after the server
 * answered: a refetch must never hide a message that already arrived.
 */
export function mergeNewestPage(fresh: MessagePage, previous: MessagePage | undefined): MessagePage {
  const newestSeq = fresh.messages.at(-1)?.seq ?? 0;
  const later = previous?.messages.filter((m) => m.seq > newestSeq) ?? [];
  return later.length ? { ...fresh, messages: [...fresh.messages, ...later] } : fresh;
}

/** Every loaded message once, oldest first. */
export function flatten(pages: MessagePages | undefined): ChatMessage[] {
  if (!pages) return [];
  const byId = new Map<string, ChatMessage>();
  for (const page of pages.pages) for (const m of page.messages) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
