import type { PrismaClient } from "@naafe/db";

/**
 * Domain events for the outside world (webhooks), recorded in the same transaction as the change
 * that causes them, so a crash can lose neither or both. A relay moves them onto the job queue
 * (integration/webhooks.ts). Nothing records events unless a consumer is configured: without
 * one, services get no `Outbox` and their statements stay as they are.
 */
export type DomainEventType =
  | "message.created"
  | "message.read"
  | "conversation.opened"
  | "conversation.closed"
  | "report.created";

export interface Outbox {
  /** Told after a commit that recorded events, so the relay picks them up now rather than at its next round. */
  recorded(): void;
}

/** Records one event inside the caller's transaction (a Prisma transaction client). */
export async function recordEvent(
  tx: Pick<PrismaClient, "outboxEvent">,
  type: DomainEventType,
  payload: Record<string, unknown>,
  at: Date,
) {
  await tx.outboxEvent.create({ data: { type, payload: JSON.parse(JSON.stringify(payload)), createdAt: at } });
}

/** What a conversation event carries. */
export function conversationEvent(
  conversation: { id: string; jobRequestId: string; participantSeeker: string; participantProvider: string },
  offerId: string | null,
) {
  return {
    conversationId: conversation.id,
    jobRequestId: conversation.jobRequestId,
    offerId,
    seekerId: conversation.participantSeeker,
    providerId: conversation.participantProvider,
  };
}

/** An ISO-8601 UTC text of a `timestamp(3)` column, as JSON payloads carry dates. */
const iso = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A `message.created` event per row of the CTE `stored` (messages just inserted, `RETURNING *`),
 * for the send statement: the events cost no round trip of their own.
 */
export const INSERT_MESSAGE_CREATED_EVENTS = `
  INSERT INTO "OutboxEvent" ("id", "type", "payload", "createdAt")
  SELECT gen_random_uuid()::text, 'message.created', jsonb_build_object(
      'messageId', s."id", 'conversationId', s."conversationId", 'seq', s."seq",
      'senderId', s."senderId", 'receiverId', s."receiverId", 'content', s."content",
      'clientMessageId', s."clientMessageId", 'timestamp', ${iso('s."timestamp"')}),
    s."timestamp"
  FROM stored s`;
