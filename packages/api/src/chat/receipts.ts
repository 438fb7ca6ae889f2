import { type Database, type Message, Prisma } from "@naafe/db";
import { type MessageEvent, type Publish, topics } from "../platform/bus/event-bus.ts";
import { createGroupCommit } from "../platform/group-commit.ts";
import type { Outbox } from "../platform/outbox.ts";
import type { Conversations } from "./conversations.ts";

/**
 * Marks messages delivered at $1: for each range (conversation, receiver, afterSeq, upToSeq),
 * the receiver's undelivered messages with afterSeq < seq <= upToSeq. The range is read by
 * (conversationId, seq), in order and limited to its length, so the planner cannot pick the
 * (conversationId, receiverId) index instead, which scans every message the receiver ever got
 * in the conversation; then those ids are updated, rather than joining Message to the ranges.
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

/** A receiver got the messages of a conversation with afterSeq < seq <= upToSeq. */
export interface DeliveryRange {
  conversationId: string;
  receiverId: string;
  afterSeq: number;
  upToSeq: number;
}

/**
 * How long the receipts of all subscriptions are collected into one statement. With many quiet
 * conversations, a statement per delivered message would double the statements per message sent.
 */
const DELIVERY_LINGER_MS = 20;
const DELIVERY_BATCH_MAX = 1_000;

export interface ReceiptsDeps {
  db: Pick<Database, "prisma" | "query">;
  conversations: Conversations;
  publish: Publish;
  now: () => Date;
  /** Told when a background receipt could not be written (the messages themselves are stored). */
  onError: (error: unknown) => void;
  /** Record `message.read` events with the read marks (webhooks); none without it. */
  outbox?: Outbox | undefined;
}

/** Delivery and read receipts: sent → delivered → read, each message reported once. */
export function createReceipts({ db, conversations, publish, now, onError, outbox }: ReceiptsDeps) {
  const { prisma } = db;

  /**
   * Marks each range's undelivered messages delivered in one statement, and tells each
   * conversation which ones. Several sessions of a receiver may race here; `deliveredAt IS
   * NULL` makes each message reported once.
   */
  async function writeDeliveries(ranges: DeliveryRange[]) {
    const merged = mergeRanges(ranges);
    const deliveredAt = now();
    const rows = await db.query<Pick<Message, "id" | "seq" | "conversationId" | "receiverId">>(MARK_DELIVERED, [
      deliveredAt.toISOString(),
      merged.map((r) => r.conversationId),
      merged.map((r) => r.receiverId),
      merged.map((r) => r.afterSeq),
      merged.map((r) => r.upToSeq),
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
      publish(topics.deliveries(first.conversationId), {
        conversationId: first.conversationId,
        receiverId: first.receiverId,
        messageIds: group.sort((a, b) => a.seq - b.seq).map((row) => row.id),
        deliveredAt,
      });
    }
    return { messageIds: new Set(rows.map((row) => row.id)), deliveredAt };
  }

  const deliverSoon = createGroupCommit(
    async (ranges: DeliveryRange[]) => {
      await writeDeliveries(ranges);
      return ranges.map(() => undefined);
    },
    { lingerMs: DELIVERY_LINGER_MS, maxBatch: DELIVERY_BATCH_MAX },
  );

  return {
    /**
     * What one `onMessage` subscription of `receiverId` hands to its client, from `startSeq` on:
     * a message to the receiver, handed over, is delivered. The subscription yields consecutive
     * seqs, so each such message closes a range that merges with its neighbours.
     */
    tracker(conversationId: string, receiverId: string, startSeq: number) {
      let lastSeq = startSeq;
      return (message: Pick<MessageEvent, "seq" | "receiverId">) => {
        if (message.receiverId === receiverId) {
          deliverSoon({ conversationId, receiverId, afterSeq: lastSeq, upToSeq: message.seq }).catch(onError);
        }
        lastSeq = message.seq;
      };
    },

    /** Loading history is receiving it: the reader's undelivered messages on a page are delivered now. */
    async deliveredOnPage(
      readerId: string,
      page: Pick<Message, "id" | "conversationId" | "seq" | "receiverId" | "deliveredAt">[],
    ) {
      const undelivered = page.filter((m) => m.receiverId === readerId && m.deliveredAt === null);
      const first = undelivered[0];
      const last = undelivered.at(-1);
      if (!first || !last) return;
      const range = {
        conversationId: first.conversationId,
        receiverId: readerId,
        afterSeq: first.seq - 1,
        upToSeq: last.seq,
      };
      const delivered = await writeDeliveries([range]);
      for (const message of page) {
        if (delivered.messageIds.has(message.id)) message.deliveredAt = delivered.deliveredAt;
      }
    },

    /**
     * Marks the caller's unread messages read and lowers their counter by exactly the number
     * marked, in one statement: a message that arrives meanwhile stays counted.
     */
    async markRead(readerId: string, conversationId: string) {
      const { otherId } = await conversations.assertParticipant(conversationId, readerId);
      const readAt = now();
      const rows = await prisma.$queryRaw<{ readCount: number }[]>`
        WITH marked AS (
          UPDATE "Message" SET "read" = true, "readAt" = ${readAt}, "updatedAt" = ${readAt},
            -- Read implies delivered, even when no live session saw it first.
            "deliveredAt" = COALESCE("deliveredAt", ${readAt})
          WHERE "conversationId" = ${conversationId} AND "receiverId" = ${readerId} AND NOT "read"
          RETURNING 1
        ), counted AS (SELECT count(*)::int AS "readCount" FROM marked)
        ${outbox ? readEvent(conversationId, readerId, readAt) : Prisma.empty}
        UPDATE "Conversation" SET
          "unreadCountSeeker" = "unreadCountSeeker" - (CASE WHEN "participantSeeker" = ${readerId} THEN counted."readCount" ELSE 0 END),
          "unreadCountProvider" = "unreadCountProvider" - (CASE WHEN "participantProvider" = ${readerId} THEN counted."readCount" ELSE 0 END)
        FROM counted
        WHERE "id" = ${conversationId}
        RETURNING counted."readCount"`;
      const readCount = rows[0]?.readCount ?? 0;
      if (readCount > 0) {
        outbox?.recorded();
        publish(topics.reads(conversationId), { conversationId, readCount, readerId, readAt });
        publish(topics.inbox(readerId), { kind: "read", conversationId });
        publish(topics.inbox(otherId), { kind: "read", conversationId });
      }
      return { conversationId, readCount, readerId, readAt };
    },
  };
}

export type Receipts = ReturnType<typeof createReceipts>;

/** A `message.read` event recorded by markRead's statement, when it marked any message read. */
function readEvent(conversationId: string, readerId: string, readAt: Date) {
  return Prisma.sql`, events AS (
    INSERT INTO "OutboxEvent" ("id", "type", "payload", "createdAt")
    SELECT gen_random_uuid()::text, 'message.read', jsonb_build_object('conversationId', ${conversationId}::text,
      'readerId', ${readerId}::text, 'readCount', counted."readCount", 'readAt', ${readAt.toISOString()}::text), ${readAt}
    FROM counted WHERE counted."readCount" > 0)`;
}

/** Joins ranges of one conversation and receiver that touch, (a, b] and (b, c] into (a, c]. */
export function mergeRanges(ranges: DeliveryRange[]): DeliveryRange[] {
  const sorted = [...ranges].sort(
    (a, b) =>
      a.conversationId.localeCompare(b.conversationId) ||
      a.receiverId.localeCompare(b.receiverId) ||
      a.afterSeq - b.afterSeq,
  );
  const merged: DeliveryRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    const sameStream = last?.conversationId === range.conversationId && last.receiverId === range.receiverId;
    if (last && sameStream && range.afterSeq <= last.upToSeq) last.upToSeq = Math.max(last.upToSeq, range.upToSeq);
    else merged.push({ ...range });
  }
  return merged;
}
