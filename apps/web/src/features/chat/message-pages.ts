import type { InfiniteData } from "@tanstack/react-query";
import type { RouterOutputs } from "../../trpc.ts";

type StoredMessage = RouterOutputs["chat"]["messages"]["messages"][number];

/** What the view needs of a message, whether it came from history, the live feed or a send. */
export type ChatMessage = Pick<
  StoredMessage,
  "id" | "seq" | "senderId" | "content" | "timestamp" | "read" | "readAt" | "clientMessageId"
>;

/** A live event or a send's answer: the message under its `messageId`, before anyone read it. */
export type NewMessage = Pick<ChatMessage, "seq" | "senderId" | "content" | "timestamp" | "clientMessageId"> & {
  messageId: string;
};

export interface MessagePage {
  /** Oldest first. */
  messages: ChatMessage[];
  /** The `before` cursor of the next older page; null at the start of the conversation. */
  nextCursor: string | null;
}

/** Page 0 is the newest; later pages are older. */
export type MessagePages = InfiniteData<MessagePage>;

export function fromStored(message: StoredMessage): ChatMessage {
  const { id, seq, senderId, content, timestamp, read, readAt, clientMessageId } = message;
  return { id, seq, senderId, content, timestamp, read, readAt, clientMessageId };
}

export function fromNew(message: NewMessage): ChatMessage {
  const { messageId, seq, senderId, content, timestamp, clientMessageId } = message;
  return { id: messageId, seq, senderId, content, timestamp, read: false, readAt: null, clientMessageId };
}

/** Adds a message to the newest page unless it is already there (live feed and send both report it). */
export function addMessage(pages: MessagePages | undefined, message: ChatMessage): MessagePages | undefined {
  if (!pages?.pages[0]) return pages;
  if (pages.pages.some((page) => page.messages.some((m) => m.id === message.id))) return pages;
  const [newest, ...older] = pages.pages;
  const messages = [...newest.messages, message].sort((a, b) => a.seq - b.seq);
  return { ...pages, pages: [{ ...newest, messages }, ...older] };
}

/** The other participant read what `me` had sent them by `readAt`. */
export function markOwnRead(pages: MessagePages | undefined, me: string, readAt: Date): MessagePages | undefined {
  if (!pages) return pages;
  return {
    ...pages,
    pages: pages.pages.map((page) => ({
      ...page,
      messages: page.messages.map((m) =>
        m.senderId === me && !m.read && m.timestamp <= readAt ? { ...m, read: true, readAt } : m,
      ),
    })),
  };
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
