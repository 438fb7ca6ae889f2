import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@naafe/db";
import { notFound } from "../errors.ts";
import { type MessageEvent, type Publish, topics } from "../platform/bus/event-bus.ts";
import { conversationEvent, type Outbox, recordEvent } from "../platform/outbox.ts";

type Client = PrismaClient | Prisma.TransactionClient;

/** Sender and receiver of Naafe's own notices ("closed by Naafe"), which both participants see. */
export const NAAFE = "naafe";

export interface SystemMessage {
  conversationId: string;
  /** A participant (shared contact details) or `NAAFE`. */
  senderId: string;
  /** The participant it is for (counted unread for them), or `NAAFE` for a notice to both. */
  receiverId: string;
  content: string;
}

/**
 * Stores a system message like any other (next seq, lastMessage, the receiver's unread count),
 * in an open or a closed conversation, in one statement. Returns the event to publish once the
 * surrounding transaction committed.
 */
export async function storeSystemMessage(client: Client, message: SystemMessage, at: Date): Promise<MessageEvent> {
  const id = randomUUID();
  const { conversationId, senderId, receiverId, content } = message;
  const rows = await client.$queryRaw<{ seq: number }[]>`
    WITH conversation AS (
      UPDATE "Conversation" c SET
        "messageCount" = c."messageCount" + 1,
        "lastMessageContent" = ${content},
        "lastMessageSenderId" = ${senderId},
        "lastMessageTimestamp" = ${at},
        "lastSystemMessageSeq" = c."messageCount" + 1,
        "unreadCountSeeker" = c."unreadCountSeeker" + (CASE WHEN c."participantSeeker" = ${receiverId} THEN 1 ELSE 0 END),
        "unreadCountProvider" = c."unreadCountProvider" + (CASE WHEN c."participantProvider" = ${receiverId} THEN 1 ELSE 0 END),
        "updatedAt" = ${at}
      WHERE c."id" = ${conversationId}
      RETURNING c."messageCount" AS "seq"
    )
    INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "type", "timestamp", "createdAt", "updatedAt")
    SELECT ${id}, ${conversationId}, "seq", ${senderId}, ${receiverId}, ${content}, 'system', ${at}, ${at}, ${at} FROM conversation
    RETURNING "seq"`;
  const seq = rows[0]?.seq;
  if (seq === undefined) throw new Error(`Conversation ${conversationId} disappeared while storing a system message.`);
  return {
    messageId: id,
    conversationId,
    seq,
    senderId,
    receiverId,
    content,
    timestamp: at,
    clientMessageId: null,
    type: "system",
  };
}

/** Tells both participants' open subscriptions and lists about a stored system message. */
export function publishSystemMessage(publish: Publish, event: MessageEvent, participants: string[]) {
  publish(topics.messages(event.conversationId), event);
  for (const userId of participants)
    publish(topics.inbox(userId), { kind: "message", conversationId: event.conversationId });
}

export interface OpenCloseDeps {
  prisma: PrismaClient;
  publish: Publish;
  /** Records `conversation.closed` / `conversation.opened` for webhooks, when they are on. */
  outbox?: Outbox | undefined;
}

/**
 * Makes a conversation read-only (or writable again) with a notice both participants see, and
 * its webhook event, in one transaction. The one way a conversation closes or reopens, whoever
 * asks (a moderator, the job's end, the marketplace's backend). Returns false when it already was.
 */
export async function setConversationOpen(
  { prisma, publish, outbox }: OpenCloseDeps,
  change: { conversationId: string; open: boolean; notice: string; reason: string | null },
  at: Date,
) {
  const { conversationId, open, notice, reason } = change;
  const outcome = await prisma.$transaction(async (tx) => {
    const changed = await tx.conversation.updateMany({
      where: { id: conversationId, isActive: !open },
      data: open
        ? { isActive: true, reopenedAt: at, closedAt: null, closedReason: null }
        : { isActive: false, closedAt: at, closedReason: reason },
    });
    const conversation = await tx.conversation.findUnique({ where: { id: conversationId } });
    if (!conversation) throw notFound("This conversation");
    if (changed.count === 0) return null;
    const event = await storeSystemMessage(
      tx,
      { conversationId, senderId: NAAFE, receiverId: NAAFE, content: notice },
      at,
    );
    if (outbox) {
      const type = open ? "conversation.opened" : "conversation.closed";
      await recordEvent(tx, type, conversationEvent(conversation, null), at);
    }
    return { event, participants: [conversation.participantSeeker, conversation.participantProvider] };
  });
  if (!outcome) return false;
  if (outbox) outbox.recorded();
  publishSystemMessage(publish, outcome.event, outcome.participants);
  return true;
}
