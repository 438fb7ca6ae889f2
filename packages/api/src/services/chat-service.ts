import { randomUUID } from "node:crypto";
import type { Conversation, Database, Message } from "@naafe/db";
import { type EventBus, type MessageEvent, type Topic, topics } from "../bus/event-bus.ts";
import { badRequest, DomainError, forbidden, notFound } from "../errors.ts";
import type { SendMessageInput } from "../schemas/index.ts";
import { createDeliveryBatcher } from "./delivery-batcher.ts";
import { createGroupCommit } from "./group-commit.ts";
import type { OwnSends } from "./own-sends.ts";

export interface ChatDeps {
  db: Pick<Database, "prisma" | "query">;
  bus: EventBus;
  now?: () => Date;
  /** Told when a live event could not be published (the message itself is stored). */
  onPublishError?: (error: unknown) => void;
}

type Participants = Pick<Conversation, "id" | "participantSeeker" | "participantProvider">;

const userSummary = { select: { id: true, name: true } } as const;
const conversationInclude = {
  seeker: userSummary,
  provider: userSummary,
  jobRequest: { select: { id: true, title: true, status: true } },
} as const;

/**
 * Stores a batch of messages (arrays of ids, conversations, senders, receivers, contents,
 * clientMessageIds and timestamps, in order) and bumps each conversation's message count,
 * lastMessage and its receivers' unread counts, in one statement. A conversation's messages
 * get consecutive seqs in batch order, continuing from its count, which the UPDATE reads
 * under the row lock; messages of closed conversations are not stored and not returned. It
 * runs straight through the driver (`db.query`): it is the statement every send pays for,
 * and Prisma's raw-query pipeline cost more CPU than the statement itself.
 */
export const STORE_MESSAGES = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamp(3)[])
      WITH ORDINALITY AS i("id", "conversationId", "senderId", "receiverId", "content", "clientMessageId", "timestamp", "n")
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
  )
  INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "clientMessageId", "timestamp", "createdAt", "updatedAt")
  SELECT i."id", i."conversationId", c."seqBefore" + row_number() OVER (PARTITION BY i."conversationId" ORDER BY i."n"),
    i."senderId", i."receiverId", i."content", i."clientMessageId", i."timestamp", i."timestamp", i."timestamp"
  FROM input i JOIN conversation c ON c."id" = i."conversationId"
  RETURNING "id", "seq"`;

/**
 * Marks messages delivered at $1: for each range (conversation, receiver, afterSeq, upToSeq),
 * the receiver's undelivered messages with afterSeq < seq <= upToSeq. Also through the driver:
 * it runs every few milliseconds under load. The range is read by (conversationId, seq), in
 * order and limited to its length, so the planner cannot pick the (conversationId, receiverId)
 * index instead, which scans every message the receiver ever got in the conversation. It then
 * updates those ids rather than joining Message to the ranges: planned for the join while the
 * table is small, it read all of Message on every run, even along an index (see `openDatabase`).
 */
export const MARK_DELIVERED = `
  UPDATE "Message" SET "deliveredAt" = $1, "updatedAt" = $1
  WHERE "deliveredAt" IS NULL AND "id" = ANY(ARRAY(
    SELECT inRange."id"
    FROM unnest($2::text[], $3::text[], $4::int[], $5::int[]) AS r("conversationId", "receiverId", "afterSeq", "upToSeq"),
      LATERAL (
        SELECT "id", "receiverId" FROM "Message"
        WHERE "conversationId" = r."conversationId" AND "seq" > r."afterSeq" AND "seq" <= r."upToSeq"
        ORDER BY "seq" LIMIT r."upToSeq" - r."afterSeq"
      ) AS inRange
    WHERE inRange."receiverId" = r."receiverId"))
  RETURNING "id", "seq", "conversationId", "receiverId"`;

/** Catch-up reads this many messages per query, so a long absence never loads everything at once. */
const CATCH_UP_PAGE = 500;
/** How long delivery receipts of all subscriptions are collected into one write, and how many at most. */
const DELIVERY_WINDOW_MS = 20;
const DELIVERY_BATCH_MAX = 1_000;

export type ChatService = ReturnType<typeof createChatService>;

export function createChatService({ db, bus, now = () => new Date(), onPublishError }: ChatDeps) {
  const { prisma } = db;
  // Participants never change, so the hot path (send) need not read them every time.
  const participantsCache = new Map<string, Participants>();

  async function participantsOf(conversationId: string): Promise<Participants> {
    const cached = participantsCache.get(conversationId);
    if (cached) return cached;
    const found = await prisma.conversation.findUnique({
      where: { id: conversationId },
      select: { id: true, participantSeeker: true, participantProvider: true },
    });
    if (!found) throw notFound("This conversation");
    if (participantsCache.size >= 50_000) participantsCache.clear();
    participantsCache.set(conversationId, found);
    return found;
  }

  /** The conversation's participants, seen from `userId`; throws unless `userId` is one of them. */
  async function assertParticipant(conversationId: string, userId: string) {
    const conversation = await participantsOf(conversationId);
    const role = roleOf(conversation, userId);
    if (!role) throw forbidden("You are not a participant in this conversation.");
    const otherId = role === "seeker" ? conversation.participantProvider : conversation.participantSeeker;
    return { role, otherId };
  }

  // Publishing is best effort: the message is already stored, and catch-up delivers it anyway.
  function publish<T>(topic: Topic<T>, event: T) {
    bus.publish(topic, event).catch((error: unknown) => onPublishError?.(error));
  }

  function toView(conversation: ConversationRow, userId: string) {
    const role = roleOf(conversation, userId) ?? "seeker";
    return {
      id: conversation.id,
      jobRequestId: conversation.jobRequestId,
      jobRequest: conversation.jobRequest,
      participants: { seeker: conversation.seeker, provider: conversation.provider },
      /** Whom the caller talks to. */
      otherParticipant: role === "seeker" ? conversation.provider : conversation.seeker,
      role,
      lastMessage:
        conversation.lastMessageContent !== null &&
        conversation.lastMessageSenderId !== null &&
        conversation.lastMessageTimestamp !== null
          ? {
              content: conversation.lastMessageContent,
              senderId: conversation.lastMessageSenderId,
              timestamp: conversation.lastMessageTimestamp,
            }
          : null,
      /** The caller's unread messages in this conversation. */
      unreadCount: role === "seeker" ? conversation.unreadCountSeeker : conversation.unreadCountProvider,
      isActive: conversation.isActive,
      createdAt: conversation.createdAt,
      updatedAt: conversation.updatedAt,
    };
  }

  // Every subscription's delivery ranges of one short window go out as one statement: with many
  // quiet conversations, a write per subscription would double the statements per message sent.
  type DeliveryRange = { conversationId: string; receiverId: string; afterSeq: number; upToSeq: number };
  let pendingDeliveries: DeliveryRange[] = [];
  let deliveryTimer: NodeJS.Timeout | undefined;

  function markDeliveredSoon(range: DeliveryRange) {
    pendingDeliveries.push(range);
    if (deliveryTimer) return Promise.resolve();
    deliveryTimer = setTimeout(() => {
      deliveryTimer = undefined;
      const ranges = pendingDeliveries;
      pendingDeliveries = [];
      for (let start = 0; start < ranges.length; start += DELIVERY_BATCH_MAX) {
        writeDeliveries(ranges.slice(start, start + DELIVERY_BATCH_MAX)).catch((error: unknown) =>
          onPublishError?.(error),
        );
      }
    }, DELIVERY_WINDOW_MS);
    return Promise.resolve();
  }

  /**
   * Marks each range's undelivered messages (`afterSeq < seq <= upToSeq`, to its receiver)
   * delivered in one statement, and tells each conversation which ones. Several sessions of a
   * receiver may race here; `deliveredAt IS NULL` makes each message reported once.
   */
  async function writeDeliveries(ranges: DeliveryRange[]) {
    const deliveredAt = now();
    const rows = await db.query<Pick<Message, "id" | "seq" | "conversationId" | "receiverId">>(MARK_DELIVERED, [
      deliveredAt.toISOString(),
      ranges.map((r) => r.conversationId),
      ranges.map((r) => r.receiverId),
      ranges.map((r) => r.afterSeq),
      ranges.map((r) => r.upToSeq),
    ]);
    // One receipt per conversation and receiver, in order.
    const groups = new Map<string, typeof rows>();
    for (const row of rows) {
      const key = `${row.conversationId}\u0000${row.receiverId}`;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    for (const group of groups.values()) {
      const [first] = group;
      if (!first) continue;
      const messageIds = group.sort((a, b) => a.seq - b.seq).map((row) => row.id);
      publish(topics.deliveries(first.conversationId), {
        conversationId: first.conversationId,
        receiverId: first.receiverId,
        messageIds,
        deliveredAt,
      });
    }
    return { messageIds: new Set(rows.map((row) => row.id)), deliveredAt };
  }

  type NewMessage = Omit<MessageEvent, "seq">;
  /**
   * Each message's seq, "closed" (its conversation is closed), "duplicate" (its clientMessageId
   * was used) or the error that kept it from being stored.
   */
  type Stored = number | "closed" | "duplicate" | { error: unknown };

  async function storeMessages(batch: NewMessage[]): Promise<Stored[]> {
    let rows: Pick<Message, "id" | "seq">[];
    try {
      rows = await db.query<Pick<Message, "id" | "seq">>(STORE_MESSAGES, [
        batch.map((m) => m.messageId),
        batch.map((m) => m.conversationId),
        batch.map((m) => m.senderId),
        batch.map((m) => m.receiverId),
        batch.map((m) => m.content),
        batch.map((m) => m.clientMessageId),
        batch.map((m) => m.timestamp.toISOString()),
      ]);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (batch.length === 1) return [batch[0]?.clientMessageId === null ? { error } : "duplicate"];
      // One resent message rolled the whole batch back: store each on its own, in order, each
      // with its own outcome (one failing must not report the others, already stored, as failed).
      const outcomes: Stored[] = [];
      for (const message of batch) {
        outcomes.push(...(await storeMessages([message]).catch((failure: unknown) => [{ error: failure }])));
      }
      return outcomes;
    }
    const seqs = new Map(rows.map((row) => [row.id, row.seq]));
    return batch.map((message) => seqs.get(message.messageId) ?? "closed");
  }
  // Sends that arrive while the database is busy share one statement and one commit.
  const store = createGroupCommit(storeMessages);

  return {
    assertParticipant,
    toView,

    /** Batches what one `onMessage` subscription of `receiverId` hands out, starting after `startSeq`. */
    deliveryBatcher(conversationId: string, receiverId: string, startSeq: number) {
      return createDeliveryBatcher({
        receiverId,
        startSeq,
        markDelivered: (afterSeq, upToSeq) => markDeliveredSoon({ conversationId, receiverId, afterSeq, upToSeq }),
        onError: onPublishError,
      });
    },

    async conversations(userId: string, { page, limit }: { page: number; limit: number }) {
      const where = { OR: [{ participantSeeker: userId }, { participantProvider: userId }] };
      const [rows, total] = await Promise.all([
        prisma.conversation.findMany({
          where,
          include: conversationInclude,
          orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
          skip: (page - 1) * limit,
          take: limit,
        }),
        prisma.conversation.count({ where }),
      ]);
      return {
        conversations: rows.map((row) => toView(row, userId)),
        pagination: { page, limit, total, pages: Math.ceil(total / limit) },
      };
    },

    async conversation(conversationId: string, userId: string) {
      await assertParticipant(conversationId, userId);
      const row = await prisma.conversation.findUniqueOrThrow({
        where: { id: conversationId },
        include: conversationInclude,
      });
      return toView(row, userId);
    },

    async conversationByJobRequest(jobRequestId: string, userId: string) {
      const row = await prisma.conversation.findUnique({ where: { jobRequestId }, include: conversationInclude });
      if (!row) throw notFound("A conversation for this job request");
      if (!roleOf(row, userId)) throw forbidden("You are not a participant in this conversation.");
      return toView(row, userId);
    },

    /** A page of messages, oldest first. Page 1 is the newest; `before` pages backwards from a message. */
    async messages(
      userId: string,
      input: { conversationId: string; page: number; limit: number; before?: string | undefined },
    ) {
      const { conversationId, page, limit, before } = input;
      await assertParticipant(conversationId, userId);
      let beforeSeq: number | undefined;
      if (before) {
        const cursor = await prisma.message.findFirst({ where: { id: before, conversationId }, select: { seq: true } });
        if (!cursor) throw badRequest("The `before` cursor is not a message of this conversation.");
        beforeSeq = cursor.seq;
      }
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
      // Loading history is receiving it: the caller's undelivered messages on this page are delivered now.
      const undelivered = messages.filter((m) => m.receiverId === userId && m.deliveredAt === null);
      const first = undelivered[0];
      const last = undelivered.at(-1);
      if (first && last) {
        const delivered = await writeDeliveries([
          { conversationId, receiverId: userId, afterSeq: first.seq - 1, upToSeq: last.seq },
        ]);
        for (const message of messages) {
          if (delivered.messageIds.has(message.id)) message.deliveredAt = delivered.deliveredAt;
        }
      }
      return {
        messages: messages.map((message) => ({ status: statusOf(message), ...message })),
        pagination: { page, limit, total, pages: Math.ceil(total / limit) },
        /** Pass as `before` to get the next older page; null at the beginning of the conversation. */
        nextCursor: hasMore ? (messages[0]?.id ?? null) : null,
      };
    },

    async unreadCount(userId: string) {
      const [asSeeker, asProvider] = await Promise.all([
        prisma.conversation.aggregate({ where: { participantSeeker: userId }, _sum: { unreadCountSeeker: true } }),
        prisma.conversation.aggregate({ where: { participantProvider: userId }, _sum: { unreadCountProvider: true } }),
      ]);
      return { total: (asSeeker._sum.unreadCountSeeker ?? 0) + (asProvider._sum.unreadCountProvider ?? 0) };
    },

    /**
     * Stores a message and, in the same statement, bumps the conversation's message count,
     * lastMessage and the receiver's unread count: one round trip, all or nothing, and
     * concurrent sends queue on the conversation row so none is lost. Sends that arrive
     * together share that statement (`createGroupCommit`). `ownSends`, the sending
     * connection's, learns of the message before it is published.
     */
    async sendMessage(senderId: string, input: SendMessageInput, ownSends?: OwnSends) {
      const { conversationId, content, clientMessageId = null } = input;
      const { otherId: receiverId } = await assertParticipant(conversationId, senderId);
      if (input.receiverId !== undefined && input.receiverId !== receiverId) {
        throw badRequest("The receiver must be the other participant of this conversation.");
      }
      const message: NewMessage = {
        messageId: randomUUID(),
        conversationId,
        senderId,
        receiverId,
        content,
        timestamp: now(),
        clientMessageId,
      };
      const stored = await store(message);
      if (typeof stored === "object") throw stored.error;
      if (stored === "duplicate" && clientMessageId !== null) {
        // The same clientMessageId again (a retry): answer with the original, store nothing.
        const original = await prisma.message.findUniqueOrThrow({
          where: { conversationId_senderId_clientMessageId: { conversationId, senderId, clientMessageId } },
        });
        return toSent(original);
      }
      if (typeof stored !== "number")
        throw new DomainError("FORBIDDEN", "This conversation is closed; it can be read but not written to.");
      // Not `{ ...message, seq }`: on Node 20 a spread followed by a new key builds a hidden
      // class per object (docs/performance.md, "What the server promoted").
      const event: MessageEvent = { seq: stored, ...message };
      ownSends?.record(conversationId, event.messageId);
      publish(topics.messages(conversationId), event);
      publish(topics.inbox(receiverId), { kind: "message", conversationId });
      publish(topics.inbox(senderId), { kind: "message", conversationId });
      return {
        messageId: event.messageId,
        conversationId,
        content,
        timestamp: event.timestamp,
        seq: event.seq,
        clientMessageId,
      };
    },

    /**
     * Marks the caller's unread messages read and lowers their counter by exactly the number
     * marked, in one statement: a message that arrives meanwhile stays counted.
     */
    async markRead(readerId: string, conversationId: string) {
      const { otherId } = await assertParticipant(conversationId, readerId);
      const readAt = now();
      const rows = await prisma.$queryRaw<{ readCount: number }[]>`
        WITH marked AS (
          UPDATE "Message" SET "read" = true, "readAt" = ${readAt}, "updatedAt" = ${readAt},
            -- Read implies delivered, even when no live session saw it first.
            "deliveredAt" = COALESCE("deliveredAt", ${readAt})
          WHERE "conversationId" = ${conversationId} AND "receiverId" = ${readerId} AND NOT "read"
          RETURNING 1
        ), counted AS (SELECT count(*)::int AS "readCount" FROM marked)
        UPDATE "Conversation" SET
          "unreadCountSeeker" = "unreadCountSeeker" - (CASE WHEN "participantSeeker" = ${readerId} THEN counted."readCount" ELSE 0 END),
          "unreadCountProvider" = "unreadCountProvider" - (CASE WHEN "participantProvider" = ${readerId} THEN counted."readCount" ELSE 0 END)
        FROM counted
        WHERE "id" = ${conversationId}
        RETURNING counted."readCount"`;
      const readCount = rows[0]?.readCount ?? 0;
      if (readCount > 0) {
        publish(topics.reads(conversationId), { conversationId, readCount, readerId, readAt });
        publish(topics.inbox(readerId), { kind: "read", conversationId });
        publish(topics.inbox(otherId), { kind: "read", conversationId });
      }
      return { conversationId, readCount, readerId, readAt };
    },

    /** The seq of a message in a conversation, for resuming after it. */
    async seqOf(conversationId: string, messageId: string) {
      const found = await prisma.message.findFirst({ where: { id: messageId, conversationId }, select: { seq: true } });
      if (!found) throw badRequest("`lastEventId` is not a message of this conversation.");
      return found.seq;
    },

    async messageCount(conversationId: string) {
      const found = await prisma.conversation.findUniqueOrThrow({
        where: { id: conversationId },
        select: { messageCount: true },
      });
      return found.messageCount;
    },

    /** Every message after `seq`, in order, read a page at a time. */
    async *messagesAfter(conversationId: string, seq: number, untilSeq?: number) {
      let after = seq;
      for (;;) {
        const page = await prisma.message.findMany({
          where: { conversationId, seq: { gt: after, ...(untilSeq === undefined ? {} : { lte: untilSeq }) } },
          orderBy: { seq: "asc" },
          take: CATCH_UP_PAGE,
        });
        for (const message of page) yield toEvent(message);
        const last = page.at(-1);
        if (!last || page.length < CATCH_UP_PAGE) return;
        after = last.seq;
      }
    },
  };
}

type ConversationRow = Conversation & {
  seeker: { id: string; name: string | null };
  provider: { id: string; name: string | null };
  jobRequest: { id: string; title: string; status: string };
};

function roleOf(conversation: Participants, userId: string): "seeker" | "provider" | null {
  if (conversation.participantSeeker === userId) return "seeker";
  if (conversation.participantProvider === userId) return "provider";
  return null;
}

export type MessageStatus = "sent" | "delivered" | "read";

/** sent → delivered (a session of the receiver got it) → read (the receiver marked it read). */
export function statusOf(message: Pick<Message, "read" | "deliveredAt">): MessageStatus {
  if (message.read) return "read";
  return message.deliveredAt ? "delivered" : "sent";
}

function toSent(message: Message) {
  return {
    messageId: message.id,
    conversationId: message.conversationId,
    content: message.content,
    timestamp: message.timestamp,
    seq: message.seq,
    clientMessageId: message.clientMessageId,
  };
}

export function toEvent(message: Message): MessageEvent {
  return {
    messageId: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
    senderId: message.senderId,
    receiverId: message.receiverId,
    content: message.content,
    timestamp: message.timestamp,
    clientMessageId: message.clientMessageId,
  };
}

/** PostgreSQL's unique_violation, however the driver adapter wraps it. */
function isUniqueViolation(error: unknown): boolean {
  const text = JSON.stringify(error, Object.getOwnPropertyNames(error ?? {})) ?? "";
  return text.includes("23505") || text.includes("UniqueConstraintViolation") || text.includes("P2002");
}
