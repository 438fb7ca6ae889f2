import { randomUUID } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Database, Message } from "@naafe/db";
import pLimit from "p-limit";
import { badRequest, DomainError } from "../errors.ts";
import { type MessageAttachment, type MessageEvent, type Publish, topics } from "../platform/bus/event-bus.ts";
import { createGroupCommit } from "../platform/group-commit.ts";
import { INSERT_MESSAGE_CREATED_EVENTS, type Outbox } from "../platform/outbox.ts";
import type { Conversations } from "./conversations.ts";
import type { OwnSends } from "./own-sends.ts";
import type { Receipts } from "./receipts.ts";
import type { SendMessageInput } from "./schemas.ts";

/**
 * Stores a batch of messages (arrays of ids, conversations, senders, receivers, contents,
 * clientMessageIds and timestamps, in order) and bumps each conversation's message count,
 * lastMessage and its receivers' unread counts, in one statement. A conversation's messages
 * get consecutive seqs in batch order, continuing from its count, which the UPDATE reads
 * under the row lock; messages of closed conversations are not stored and not returned.
 * Each receiver's pending notification for the conversation (notifications/sweep.ts decides
 * later whether to push or email) is recorded in the same statement: one row however many messages.
 */
const STORE_MESSAGES_UPDATE = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamp(3)[], $8::text[])
      WITH ORDINALITY AS i("id", "conversationId", "senderId", "receiverId", "content", "clientMessageId", "timestamp", "type", "n")
  ), totals AS (
    SELECT i."conversationId",
      count(*)::int AS "added",
      count(*) FILTER (WHERE i."receiverId" = c."participantSeeker")::int AS "toSeeker",
      count(*) FILTER (WHERE i."receiverId" = c."participantProvider")::int AS "toProvider",
      (array_agg(i."content" ORDER BY i."n" DESC))[1] AS "lastContent",
      (array_agg(i."senderId" ORDER BY i."n" DESC))[1] AS "lastSenderId",
      (array_agg(i."timestamp" ORDER BY i."n" DESC))[1] AS "lastAt"
    FROM input i JOIN "Conversation" c ON c."id" = i."conversationId"
    GROUP BY i."conversationId"
  ), conversation AS (
    UPDATE "Conversation" c SET
      "messageCount" = c."messageCount" + t."added",
      "lastMessageContent" = t."lastContent",
      "lastMessageSenderId" = t."lastSenderId",
      "lastMessageTimestamp" = t."lastAt",
      "unreadCountSeeker" = c."unreadCountSeeker" + t."toSeeker",
      "unreadCountProvider" = c."unreadCountProvider" + t."toProvider",
      "updatedAt" = t."lastAt"
    FROM totals t
    WHERE c."id" = t."conversationId" AND c."isActive"
    RETURNING c."id", c."messageCount" - t."added" AS "seqBefore"
  ), pending AS (
    INSERT INTO "PendingNotification" AS p ("userId", "conversationId", "pushFrom", "emailFrom", "lastAt")
    SELECT i."receiverId", i."conversationId", min(i."timestamp"), min(i."timestamp"), max(i."timestamp")
    FROM input i JOIN conversation c ON c."id" = i."conversationId"
    GROUP BY i."receiverId", i."conversationId"
    ON CONFLICT ("userId", "conversationId") DO UPDATE SET
      "pushFrom" = coalesce(p."pushFrom", excluded."pushFrom"),
      "emailFrom" = coalesce(p."emailFrom", excluded."emailFrom"),
      "lastAt" = greatest(p."lastAt", excluded."lastAt")
  )`;
const STORE_MESSAGES_INSERT = `
  INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "clientMessageId", "timestamp", "type", "createdAt", "updatedAt")
  SELECT i."id", i."conversationId", c."seqBefore" + row_number() OVER (PARTITION BY i."conversationId" ORDER BY i."n"),
    i."senderId", i."receiverId", i."content", i."clientMessageId", i."timestamp", i."type"::"MessageType", i."timestamp", i."timestamp"
  FROM input i JOIN conversation c ON c."id" = i."conversationId"`;
export const STORE_MESSAGES = `${STORE_MESSAGES_UPDATE}${STORE_MESSAGES_INSERT}
  RETURNING "id", "seq"`;

/**
 * STORE_MESSAGES that also records a `message.created` event per stored message, in the same
 * statement; used only when an outbox consumer (webhooks) is configured.
 */
export const STORE_MESSAGES_AND_EVENTS = `${STORE_MESSAGES_UPDATE}, stored AS (${STORE_MESSAGES_INSERT}
  RETURNING *
  ), events AS (${INSERT_MESSAGE_CREATED_EVENTS})
  SELECT "id", "seq" FROM stored`;

/**
 * How catch-up reads, so a long absence never loads everything at once: pages of this many
 * messages, this many pages at once process-wide. PGlite runs in this process and its queued
 * queries run back to back: hundreds of clients resuming together blocked the event loop for
 * seconds. Small pages one at a time there, each after a turn of the event loop, let sends and
 * pings through between them.
 */
const CATCH_UP = { pglite: { page: 100, readers: 1 }, postgres: { page: 500, readers: 4 } };

type NewMessage = Omit<MessageEvent, "seq">;

/** Files bound to a message before it is stored (attachments/service.ts `bind`), under its id. */
export interface Attached {
  messageId: string;
  type: "image" | "file";
  attachments: MessageAttachment[];
}
/** A message's seq, or why it was not stored: its conversation is closed, or its clientMessageId was used. */
type Stored = number | "closed" | "duplicate" | { error: unknown };

interface PageInput {
  conversationId: string;
  page: number;
  limit: number;
  /** A messageId: the messages before it (older), for infinite scroll. */
  before?: string | undefined;
  /** A messageId: the page with it in the middle. */
  around?: string | undefined;
}

export interface MessagesDeps {
  db: Pick<Database, "prisma" | "query" | "kind">;
  conversations: Conversations;
  receipts: Receipts;
  publish: Publish;
  now: () => Date;
  /** Record `message.created` events with the messages (webhooks); none without it. */
  outbox?: Outbox | undefined;
}

/** The message store: sending (one statement per batch of sends), history pages and catch-up reads. */
export function createMessages({ db, conversations, receipts, publish, now, outbox }: MessagesDeps) {
  const { prisma } = db;
  const storeStatement = outbox ? STORE_MESSAGES_AND_EVENTS : STORE_MESSAGES;
  const catchUp = CATCH_UP[db.kind];
  const catchUpTurn = pLimit(catchUp.readers);

  async function storeBatch(batch: NewMessage[]): Promise<Stored[]> {
    let rows: Pick<Message, "id" | "seq">[];
    try {
      rows = await db.query<Pick<Message, "id" | "seq">>(storeStatement, [
        batch.map((m) => m.messageId),
        batch.map((m) => m.conversationId),
        batch.map((m) => m.senderId),
        batch.map((m) => m.receiverId),
        batch.map((m) => m.content),
        batch.map((m) => m.clientMessageId),
        batch.map((m) => m.timestamp.toISOString()),
        batch.map((m) => m.type),
      ]);
    } catch (error) {
      if (isLockTimeout(error)) return storeEachConversation(batch, error);
      if (!isUniqueViolation(error)) throw error;
      if (batch.length === 1) return [batch[0]?.clientMessageId === null ? { error } : "duplicate"];
      // One resent message rolled the whole batch back: store each on its own, in order, each
      // with its own outcome (one failing must not report the others, already stored, as failed).
      const outcomes: Stored[] = [];
      for (const message of batch) {
        outcomes.push(...(await storeBatch([message]).catch((failure: unknown) => [{ error: failure }])));
      }
      return outcomes;
    }
    if (outbox && rows.length > 0) outbox.recorded();
    const seqs = new Map(rows.map((row) => [row.id, row.seq]));
    return batch.map((message) => seqs.get(message.messageId) ?? "closed");
  }
  /**
   * A batch that waited too long for a conversation row someone else's transaction holds: each
   * conversation's sends go again in a statement of their own, so only the held one's fail
   * (retryable) and the others are stored now instead of waiting behind it.
   */
  async function storeEachConversation(batch: NewMessage[], error: unknown): Promise<Stored[]> {
    const groups = new Map<string, NewMessage[]>();
    for (const message of batch) {
      const group = groups.get(message.conversationId);
      if (group) group.push(message);
      else groups.set(message.conversationId, [message]);
    }
    if (groups.size === 1) {
      throw new DomainError("SERVICE_UNAVAILABLE", "This conversation is busy right now; send the message again.", 1);
    }
    const outcomes = new Map<NewMessage, Stored>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const stored = await storeBatch(group).catch((failure: unknown) => group.map(() => ({ error: failure })));
        for (const [index, message] of group.entries()) outcomes.set(message, stored[index] ?? { error });
      }),
    );
    return batch.map((message) => outcomes.get(message) ?? { error });
  }

  // Sends that arrive while the database is busy share one statement and one commit.
  const store = createGroupCommit(storeBatch);

  return {
    /**
     * Stores a message and, in the same statement, bumps the conversation's message count,
     * lastMessage and the receiver's unread count: one round trip, all or nothing, and
     * concurrent sends queue on the conversation row so none is lost. `ownSends`, the sending
     * connection's, learns of the message before it is published.
     */
    async send(senderId: string, input: SendMessageInput, ownSends?: OwnSends, attached?: Attached) {
      const { conversationId, content = "", clientMessageId = null } = input;
      const { otherId: receiverId } = await conversations.assertParticipant(conversationId, senderId);
      if (input.receiverId !== undefined && input.receiverId !== receiverId) {
        throw badRequest("The receiver must be the other participant of this conversation.");
      }
      const message: NewMessage = {
        messageId: attached?.messageId ?? randomUUID(),
        conversationId,
        senderId,
        receiverId,
        content,
        timestamp: now(),
        clientMessageId,
        type: attached?.type ?? "text",
        ...(attached ? { attachments: attached.attachments } : {}),
      };
      const stored = await store(message);
      if (typeof stored === "object") throw stored.error;
      if (stored === "duplicate" && clientMessageId !== null) {
        // The same clientMessageId again (a retry): answer with the original, store nothing.
        const original = await prisma.message.findUniqueOrThrow({
          where: { conversationId_senderId_clientMessageId: { conversationId, senderId, clientMessageId } },
        });
        return toSent(toEvent(original));
      }
      if (typeof stored !== "number")
        throw new DomainError("FORBIDDEN", "This conversation is closed; it can be read but not written to.");
      const event: MessageEvent = { seq: stored, ...message };
      ownSends?.record(conversationId, event.messageId);
      publish(topics.messages(conversationId), event);
      publish(topics.inbox(receiverId), { kind: "message", conversationId });
      publish(topics.inbox(senderId), { kind: "message", conversationId });
      return toSent(event);
    },

    /** A page of messages, oldest first. Page 1 is the newest; `before` pages backwards from a message. */
    async page(userId: string, input: PageInput) {
      const { conversationId, page, limit, before, around } = input;
      await conversations.assertParticipant(conversationId, userId);
      // `around` (a search hit): the page that ends half a page after the message, so it sits in the middle.
      const beforeSeq =
        before !== undefined
          ? await seqOf(conversationId, before, "before")
          : around !== undefined
            ? (await seqOf(conversationId, around, "around")) + Math.floor(limit / 2) + 1
            : undefined;
      const [newestFirst, total] = await Promise.all([
        prisma.message.findMany({
          where: { conversationId, ...(beforeSeq === undefined ? {} : { seq: { lt: beforeSeq } }) },
          orderBy: { seq: "desc" },
          skip: beforeSeq === undefined ? (page - 1) * limit : 0,
          take: limit + 1,
        }),
        prisma.message.count({ where: { conversationId } }),
      ]);
      const hasMore = newestFirst.length > limit;
      const messages = newestFirst.slice(0, limit).reverse();
      await receipts.deliveredOnPage(userId, messages);
      return {
        messages: messages.map((message) => ({ status: statusOf(message), ...message })),
        pagination: { page, limit, total, pages: Math.ceil(total / limit) },
        /** Pass as `before` to get the next older page; null at the beginning of the conversation. */
        nextCursor: hasMore ? (messages[0]?.id ?? null) : null,
      };
    },

    /** Every message after `seq` (up to `untilSeq`), in order, read a page at a time. */
    async *after(conversationId: string, seq: number, untilSeq?: number): AsyncGenerator<MessageEvent> {
      let after = seq;
      for (;;) {
        const page = await catchUpTurn(async () => {
          await nextTurn();
          return prisma.message.findMany({
            where: { conversationId, seq: { gt: after, ...(untilSeq === undefined ? {} : { lte: untilSeq }) } },
            orderBy: { seq: "asc" },
            take: catchUp.page,
          });
        });
        for (const message of page) yield toEvent(message);
        const last = page.at(-1);
        if (!last || page.length < catchUp.page) return;
        after = last.seq;
      }
    },

    /** The seq of a message in a conversation, for resuming after it. */
    seqOf: (conversationId: string, messageId: string) => seqOf(conversationId, messageId, "lastEventId"),
  };

  async function seqOf(conversationId: string, messageId: string, field: string) {
    const found = await prisma.message.findFirst({ where: { id: messageId, conversationId }, select: { seq: true } });
    if (!found) throw badRequest(`\`${field}\` is not a message of this conversation.`);
    return found.seq;
  }
}

export type Messages = ReturnType<typeof createMessages>;

export type MessageStatus = "sent" | "delivered" | "read";

/** sent → delivered (a session of the receiver got it) → read (the receiver marked it read). */
export function statusOf(message: Pick<Message, "read" | "deliveredAt">): MessageStatus {
  if (message.read) return "read";
  return message.deliveredAt ? "delivered" : "sent";
}

function toSent({
  messageId,
  conversationId,
  content,
  timestamp,
  seq,
  clientMessageId,
  type,
  attachments,
}: MessageEvent) {
  return { messageId, conversationId, content, timestamp, seq, clientMessageId, type, attachments };
}

function toEvent(message: Message): MessageEvent {
  return {
    messageId: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
    senderId: message.senderId,
    receiverId: message.receiverId,
    content: message.content,
    timestamp: message.timestamp,
    clientMessageId: message.clientMessageId,
    type: message.type,
    editedAt: message.editedAt,
    deletedAt: message.deletedAt,
  };
}

/** PostgreSQL's lock_not_available: the hot connections' `lock_timeout` passed (PostgreSQL only). */
function isLockTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "55P03";
}

/** PostgreSQL's unique_violation; both drivers (pg and PGlite) report the SQLSTATE as `code`. */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}
