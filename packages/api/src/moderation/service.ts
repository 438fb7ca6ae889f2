import type { Database } from "@naafe/db";
import type { AttachmentView } from "../attachments/service.ts";
import type { AuthUser } from "../auth.ts";
import type { Conversations } from "../chat/conversations.ts";
import { notices } from "../chat/notices.ts";
import { publishSystemMessage, storeSystemMessage } from "../chat/system-messages.ts";
import { DomainError, forbidden } from "../errors.ts";
import { type EventBus, type MessageEvent, publishBestEffort } from "../platform/bus/event-bus.ts";
import type { RateLimit, RateLimiter } from "../platform/limits.ts";
import type { Outbox } from "../platform/outbox.ts";
import { createBlocks } from "./blocks.ts";
import { closeAfterGraceJob, closeConversationsAfterGrace, GRACE_BATCH, setJobStatus } from "./closing.ts";
import { type ContactMaskingMode, maskContacts, masksContacts } from "./masking.ts";
import { createMessageChanges, type MessageChangeEvent } from "./message-changes.ts";
import { createModeratorActions } from "./moderator.ts";
import { fileReport, type ReportInput } from "./reports.ts";
import { createSafetyState } from "./safety-state.ts";
import { viewContent } from "./views.ts";

export interface ModerationOptions {
  contactMasking: ContactMaskingMode;
  /** How long after sending a message its sender may edit or delete it. */
  editWindowMs: number;
  /** How long after its job is completed or cancelled a conversation becomes read-only. */
  closeGraceMs: number;
  /** Reports one user may file: a burst, then a steady rate. */
  reportLimit: RateLimit;
  /** Blocks, unblocks, shared contacts and job status changes one user may make. */
  safetyLimit: RateLimit;
  /** Moderator calls (reads and actions) one moderator may make. */
  moderatorLimit: RateLimit;
}

export const defaultModerationOptions: ModerationOptions = {
  contactMasking: "until-completed",
  editWindowMs: 15 * 60_000,
  closeGraceMs: 24 * 3_600_000,
  reportLimit: { burst: 10, perSecond: 10 / 3_600 },
  safetyLimit: { burst: 20, perSecond: 0.5 },
  moderatorLimit: { burst: 120, perSecond: 5 },
};

interface ModerationDeps {
  db: Pick<Database, "prisma">;
  bus: EventBus;
  chat: Pick<Conversations, "assertParticipant">;
  now: () => Date;
  options?: Partial<ModerationOptions> | undefined;
  createLimiter: (name: string, limit: RateLimit, what: string) => RateLimiter;
  onPublishError?: ((error: unknown) => void) | undefined;
  /** Records conversation events for webhooks when a conversation closes or reopens. */
  outbox?: Outbox | undefined;
}

const CANNOT_SEND = "You cannot send messages in this conversation.";

interface SentMessage {
  messageId: string;
  conversationId: string;
  content: string;
  timestamp: Date;
  seq: number;
  clientMessageId: string | null;
  type: MessageEvent["type"];
}

interface ViewableRow {
  senderId: string;
  content: string;
  type: string;
  editedAt: Date | null;
  deletedAt: Date | null;
}

/** Trust and safety: masking on read, blocks, reports, edits and deletions, closing, moderators. */
export function createModerationService({
  db,
  bus,
  chat,
  now,
  options,
  createLimiter,
  onPublishError,
  outbox,
}: ModerationDeps) {
  const settings = { ...defaultModerationOptions, ...options };
  const { prisma } = db;
  const state = createSafetyState({ prisma, bus, onPublishError });
  const blocks = createBlocks({ prisma, state, now });
  const changes = createMessageChanges({ prisma, bus, now, editWindowMs: settings.editWindowMs, onPublishError });
  const reportLimiter = createLimiter("report", settings.reportLimit, "reporting");
  const safetyLimiter = createLimiter("safety", settings.safetyLimit, "changing settings");
  const publish = publishBestEffort(bus, onPublishError ?? (() => {}));
  const closingDeps = { prisma, publish, outbox, state };
  const moderator = createModeratorActions({ prisma, publish, outbox, now, state, createLimiter, settings });

  async function masking(conversationId: string) {
    return masksContacts(settings.contactMasking, await state.jobStatus(conversationId));
  }
  /** `masking` without a wait when the job's status is cached; undefined when it must be read. */
  function knownMasking(conversationId: string) {
    const status = state.knownJobStatus(conversationId);
    return status === undefined ? undefined : masksContacts(settings.contactMasking, status);
  }

  /** Throws unless `senderId` may write to the conversation now: not suspended, not blocked by the other side. */
  async function assertMaySend(senderId: string, conversationId: string) {
    const { otherId } = await chat.assertParticipant(conversationId, senderId);
    const [blocked, suspendedUntil] = await Promise.all([
      state.isBlocked(otherId, senderId),
      state.suspendedUntil(senderId),
    ]);
    // No hint of a block: the blocked user learns only that they cannot send.
    if (blocked) throw forbidden(CANNOT_SEND);
    if (suspendedUntil > now().getTime()) {
      throw forbidden(`Your chat is suspended until ${new Date(suspendedUntil).toISOString()}.`);
    }
    return { otherId };
  }

  /**
   * Hides a blocker's presence from the user they blocked (offline, never last seen). The block
   * is read before the first event (then cached), so events are not held up by the database.
   */
  async function hidePresence<T extends { online: boolean; lastSeen: Date | null }>(
    viewerId: string,
    otherId: string,
    events: AsyncIterable<T>,
  ) {
    await state.isBlocked(otherId, viewerId);
    return (async function* () {
      for await (const event of events) {
        yield (await state.isBlocked(otherId, viewerId)) ? { ...event, online: false, lastSeen: null } : event;
      }
    })();
  }

  /** Drops typing between a blocker and the user they blocked, in both directions (read first, then cached). */
  async function hideTyping<T extends { userId: string }>(viewerId: string, otherId: string, events: AsyncIterable<T>) {
    const hidden = (typistId: string) =>
      Promise.all([state.isBlocked(typistId, viewerId), state.isBlocked(viewerId, typistId)]).then(([a, b]) => a || b);
    await hidden(otherId);
    return (async function* () {
      for await (const event of events) if (!(await hidden(event.userId))) yield event;
    })();
  }

  return {
    settings,
    state,
    assertMaySend,
    hidePresence,
    hideTyping,
    moderator,

    /** The masking of a conversation right now, for the hot send path (a cached read). */
    masking,
    knownMasking,

    /** `sendMessage`'s answer for the sender, with whether the receiver sees it masked (show "use Share contact"). */
    senderView(sent: SentMessage, masking: boolean, attachments: AttachmentView[]) {
      return {
        messageId: sent.messageId,
        conversationId: sent.conversationId,
        content: sent.content,
        timestamp: sent.timestamp,
        seq: sent.seq,
        clientMessageId: sent.clientMessageId,
        maskedForReceiver: masking && maskContacts(sent.content).masked,
        type: sent.type,
        attachments,
      };
    },

    /** A page of `chat.messages` as `viewerId` may see it. */
    async viewMessages<M extends ViewableRow>(viewerId: string, conversationId: string, page: { messages: M[] }) {
      const masked = await masking(conversationId);
      return page.messages.map((message) => ({ ...message, ...viewContent(message, viewerId, masked) }));
    },

    /** A message's text as `viewerId` may see it (a search hit). */
    async viewText(
      viewerId: string,
      message: { conversationId: string; senderId: string; type: string; content: string },
    ) {
      return viewContent(message, viewerId, await masking(message.conversationId)).content;
    },

    /**
     * Shapes each `onMessage` event for its subscriber, with `masking` read for it just before
     * (it follows the job's status live). One object per event: this runs per message per subscriber.
     */
    viewEvent(viewerId: string, event: MessageEvent, masking: boolean, attachments: AttachmentView[]) {
      const view = viewContent(event, viewerId, masking);
      return {
        messageId: event.messageId,
        conversationId: event.conversationId,
        seq: event.seq,
        senderId: event.senderId,
        receiverId: event.receiverId,
        content: view.content,
        timestamp: event.timestamp,
        clientMessageId: event.clientMessageId,
        type: event.type,
        masked: view.masked,
        maskedForReceiver: view.maskedForReceiver,
        edited: view.edited,
        deleted: view.deleted,
        attachments,
      };
    },

    async block(userId: string, blockedId: string) {
      await safetyLimiter.take(userId);
      return blocks.block(userId, blockedId);
    },

    async unblock(userId: string, blockedId: string) {
      await safetyLimiter.take(userId);
      return blocks.unblock(userId, blockedId);
    },

    async report(reporterId: string, input: ReportInput) {
      await reportLimiter.take(reporterId);
      await chat.assertParticipant(input.conversationId, reporterId);
      return fileReport(prisma, reporterId, input, now());
    },

    /** Posts the caller's contact details from their token as a system message to the other participant. */
    async shareContact(user: AuthUser, conversationId: string) {
      await safetyLimiter.take(user.id);
      const { otherId } = await assertMaySend(user.id, conversationId);
      if (!user.phone && !user.email) {
        throw new DomainError("BAD_REQUEST", "Your account has no phone number or email address to share.");
      }
      const at = now();
      const event = await prisma.$transaction(async (tx) => {
        const open = await tx.$queryRaw<{ isActive: boolean }[]>`
          SELECT "isActive" FROM "Conversation" WHERE "id" = ${conversationId} FOR UPDATE`;
        if (!open[0]?.isActive) throw forbidden("This conversation is closed; it can be read but not written to.");
        return storeSystemMessage(
          tx,
          {
            conversationId,
            senderId: user.id,
            receiverId: otherId,
            content: notices.contactShared(user.name ?? null, user.phone ?? null, user.email ?? null),
          },
          at,
        );
      });
      publishSystemMessage(publish, event, [user.id, otherId]);
      return { messageId: event.messageId, conversationId, content: event.content, timestamp: at, seq: event.seq };
    },

    async editMessage(userId: string, messageId: string, content: string, sendLimiter: RateLimiter) {
      await sendLimiter.take(userId);
      await assertMayChange(userId, messageId);
      return changes.edit(userId, messageId, content);
    },

    async deleteMessage(userId: string, messageId: string, sendLimiter: RateLimiter) {
      await sendLimiter.take(userId);
      await assertMayChange(userId, messageId);
      return changes.delete(userId, messageId);
    },

    /** `chat.onMessageChanged`: edits and deletions, masked for the subscriber like messages. */
    async onMessageChanged(
      viewerId: string,
      conversationId: string,
      lastEventId: string | null | undefined,
      signal?: AbortSignal,
    ) {
      await chat.assertParticipant(conversationId, viewerId);
      return changes.subscribe(conversationId, lastEventId, signal, async (change: MessageChangeEvent) => {
        const view = viewContent(
          {
            senderId: change.senderId,
            content: change.content,
            deletedAt: change.kind === "deleted" ? change.at : null,
          },
          viewerId,
          await masking(conversationId),
        );
        return { ...change, content: view.content, masked: view.masked, maskedForReceiver: view.maskedForReceiver };
      });
    },

    setJobStatus(seekerId: string, input: { jobRequestId: string; status: "completed" | "cancelled" }) {
      return safetyLimiter.take(seekerId).then(() => setJobStatus(closingDeps, seekerId, input, now()));
    },

    /** Closes what is due now (see `closeConversationsAfterGrace`). */
    closeConversationsAfterGrace: (at: Date) =>
      closeConversationsAfterGrace({ ...closingDeps, graceMs: settings.closeGraceMs }, at),

    /** The queue's workers for moderation's scheduled jobs. */
    workers: [
      closeAfterGraceJob.worker(async () => {
        const graceDeps = { ...closingDeps, graceMs: settings.closeGraceMs };
        while ((await closeConversationsAfterGrace(graceDeps, now())).closed >= GRACE_BATCH);
      }),
    ],

    async close() {
      state.close();
      await Promise.all([reportLimiter.close(), safetyLimiter.close(), moderator.close()]);
    },
  };

  /** A suspended or blocked user may not change what the other side sees either. */
  async function assertMayChange(userId: string, messageId: string) {
    const message = await prisma.message.findUnique({ where: { id: messageId }, select: { conversationId: true } });
    if (!message) throw new DomainError("NOT_FOUND", "This message was not found.");
    await assertMaySend(userId, message.conversationId).catch((error: unknown) => {
      // A stranger learns nothing about the message.
      if (error instanceof DomainError && error.message === "You are not a participant in this conversation.") {
        throw new DomainError("NOT_FOUND", "This message was not found.");
      }
      throw error;
    });
  }
}

export type ModerationService = ReturnType<typeof createModerationService>;
