import type { PrismaClient } from "@naafe/db";
import { tracked } from "@trpc/server";
import { badRequest, DomainError, forbidden, notFound } from "../errors.ts";
import { type EventBus, type Topic, topics } from "../platform/bus/event-bus.ts";
import { listenWithGaps, MISSED } from "../platform/bus/listen.ts";

/** An edit or a deletion, as published: `content` is the new text (raw; each reader's view masks it). */
export interface MessageChangeEvent {
  changeId: string;
  conversationId: string;
  /** Orders a conversation's changes, 1, 2, 3…, for catch-up without gaps. */
  seq: number;
  messageId: string;
  senderId: string;
  kind: "edited" | "deleted";
  content: string;
  at: Date;
}

export const changeTopic = (conversationId: string): Topic<MessageChangeEvent> => ({
  name: `message-changes:${conversationId}`,
});

interface ChangeDeps {
  prisma: PrismaClient;
  bus: EventBus;
  now: () => Date;
  editWindowMs: number;
  onPublishError?: ((error: unknown) => void) | undefined;
}

type Change = { kind: "edited"; content: string } | { kind: "deleted" };

/**
 * Edits and deletions of one's own messages within `editWindowMs` of sending. Each is a row of
 * MessageChange holding the text it replaced (moderators see every version), numbered per
 * conversation under the conversation's row lock. lastMessage and unread counts follow in the
 * same transaction: an edit of the last message updates lastMessage, a deleted last message
 * shows as deleted, a deleted unread message stops counting as unread.
 */
export function createMessageChanges({ prisma, bus, now, editWindowMs, onPublishError }: ChangeDeps) {
  const minutes = Math.round(editWindowMs / 60_000);

  async function apply(userId: string, messageId: string, change: Change) {
    const at = now();
    const result = await prisma.$transaction(async (tx) => {
      const [conversation] = await tx.$queryRaw<
        {
          id: string;
          messageCount: number;
          isActive: boolean;
          participantSeeker: string;
          participantProvider: string;
        }[]
      >`
        SELECT c."id", c."messageCount", c."isActive", c."participantSeeker", c."participantProvider"
        FROM "Conversation" c JOIN "Message" m ON m."conversationId" = c."id"
        WHERE m."id" = ${messageId}
        FOR UPDATE OF c`;
      if (!conversation || (conversation.participantSeeker !== userId && conversation.participantProvider !== userId)) {
        throw notFound("This message");
      }
      const message = await tx.message.findUniqueOrThrow({ where: { id: messageId } });
      if (message.senderId !== userId) throw forbidden("You can only change your own messages.");
      if (message.type !== "text") throw badRequest("Only text messages can be edited or deleted.");
      if (message.deletedAt) throw new DomainError("CONFLICT", "This message was already deleted.");
      if (!conversation.isActive) throw forbidden("This conversation is closed; it can be read but not written to.");
      if (at.getTime() - message.timestamp.getTime() > editWindowMs) {
        throw forbidden(`Messages can be edited or deleted only within ${minutes} minutes of sending.`);
      }
      if (change.kind === "edited" && change.content === message.content) return null;
      const [{ next } = { next: 1 }] = await tx.$queryRaw<{ next: number }[]>`
        SELECT COALESCE(MAX("seq"), 0)::int + 1 AS "next" FROM "MessageChange" WHERE "conversationId" = ${conversation.id}`;
      const row = await tx.messageChange.create({
        data: {
          conversationId: conversation.id,
          seq: next,
          messageId,
          kind: change.kind,
          previousContent: message.content,
          at,
        },
      });
      const isLast = message.seq === conversation.messageCount;
      if (change.kind === "edited") {
        await tx.message.update({ where: { id: messageId }, data: { content: change.content, editedAt: at } });
        if (isLast)
          await tx.conversation.update({
            where: { id: conversation.id },
            data: { lastMessageContent: change.content },
          });
      } else {
        // Deleted unread: no longer counted (and read, so counters and messages agree).
        await tx.message.update({
          where: { id: messageId },
          data: { deletedAt: at, ...(message.read ? {} : { read: true, readAt: at }) },
        });
        const toSeeker = message.receiverId === conversation.participantSeeker;
        await tx.conversation.update({
          where: { id: conversation.id },
          data: {
            ...(isLast ? { lastDeletedMessageSeq: message.seq } : {}),
            ...(message.read
              ? {}
              : toSeeker
                ? { unreadCountSeeker: { decrement: 1 } }
                : { unreadCountProvider: { decrement: 1 } }),
          },
        });
      }
      const event: MessageChangeEvent = {
        changeId: row.id,
        conversationId: conversation.id,
        seq: next,
        messageId,
        senderId: userId,
        kind: change.kind,
        content: change.kind === "edited" ? change.content : "",
        at,
      };
      return { event, participants: [conversation.participantSeeker, conversation.participantProvider] };
    });
    if (!result) return { messageId, kind: change.kind, at: null };
    const fail = (error: unknown) => onPublishError?.(error);
    bus.publish(changeTopic(result.event.conversationId), result.event).catch(fail);
    for (const participant of result.participants) {
      bus
        .publish(topics.inbox(participant), { kind: "message", conversationId: result.event.conversationId })
        .catch(fail);
    }
    return { messageId, kind: change.kind, at };
  }

  /** Every change after `seq`, in order, with the message's current text (catch-up needs the end state only). */
  async function changesAfter(conversationId: string, seq: number): Promise<MessageChangeEvent[]> {
    const rows = await prisma.messageChange.findMany({
      where: { conversationId, seq: { gt: seq } },
      orderBy: { seq: "asc" },
      take: 500,
      include: { message: { select: { senderId: true, content: true, deletedAt: true } } },
    });
    return rows.map((row) => ({
      changeId: row.id,
      conversationId,
      seq: row.seq,
      messageId: row.messageId,
      senderId: row.message.senderId,
      kind: row.kind,
      content: row.message.deletedAt ? "" : row.message.content,
      at: row.at,
    }));
  }

  return {
    edit: (userId: string, messageId: string, content: string) => apply(userId, messageId, { kind: "edited", content }),
    delete: (userId: string, messageId: string) => apply(userId, messageId, { kind: "deleted" }),

    /**
     * A conversation's edits and deletions as they happen; with `lastEventId` (a changeId), first
     * every change after it. Listens before reading the database, so nothing committed in
     * between is missed; `view` shapes each event for the subscriber (masking).
     */
    async subscribe<V>(
      conversationId: string,
      lastEventId: string | null | undefined,
      signal: AbortSignal | undefined,
      view: (event: MessageChangeEvent) => Promise<V>,
    ) {
      const live = await listenWithGaps(bus, changeTopic(conversationId), signal);
      let lastSeq: number;
      if (lastEventId) {
        const found = await prisma.messageChange.findFirst({ where: { id: lastEventId, conversationId } });
        if (!found) throw badRequest("`lastEventId` is not a change of this conversation.");
        lastSeq = found.seq;
      } else {
        const latest = await prisma.messageChange.aggregate({ where: { conversationId }, _max: { seq: true } });
        lastSeq = latest._max.seq ?? 0;
      }
      return (async function* () {
        async function* catchUp() {
          for (;;) {
            const page = await changesAfter(conversationId, lastSeq);
            for (const change of page) {
              lastSeq = change.seq;
              yield tracked(change.changeId, await view(change));
            }
            if (page.length < 500) return;
          }
        }
        yield* catchUp();
        for await (const event of live) {
          if (event === MISSED || event.seq > lastSeq + 1) {
            yield* catchUp();
            continue;
          }
          if (event.seq <= lastSeq) continue;
          lastSeq = event.seq;
          yield tracked(event.changeId, await view(event));
        }
      })();
    },
  };
}

export type MessageChanges = ReturnType<typeof createMessageChanges>;
