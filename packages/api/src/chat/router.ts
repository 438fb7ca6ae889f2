import { type TRPCRouterRecord, tracked } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { attachmentProcedures } from "../attachments/router.ts";
import type { AttachmentView } from "../attachments/service.ts";
import { chatSafetyProcedures } from "../moderation/router.ts";
import { muteProcedures } from "../notifications/router.ts";
import {
  type InboxEvent,
  type MessageEvent,
  type MessagesDeliveredEvent,
  type MessagesReadEvent,
  topics,
} from "../platform/bus/event-bus.ts";
import { DEADLINE, listen, listenWithGaps, MISSED, withDeadline } from "../platform/bus/listen.ts";
import { searchProcedures } from "../search/router.ts";
import { protectedProcedure } from "../trpc.ts";
import { resume } from "./resume.ts";
import {
  conversationByJobRequestInput,
  conversationInput,
  conversationsInput,
  conversationsOutput,
  conversationView,
  markReadOutput,
  messagesInput,
  messagesOutput,
  onMessageInput,
  sendMessageInput,
  sentMessageOutput,
  typingInput,
  unreadCountOutput,
} from "./schemas.ts";

/** The seed's REST path of a procedure (`/api/chat/…`, served by apps/server/src/rest.ts). */
/** The attachments of an event without any: one shared list, never changed (events are only serialised). */
const NO_ATTACHMENTS: AttachmentView[] = [];

const rest = (method: "GET" | "POST" | "PATCH", path: `/${string}`, summary: string): OpenApiMeta => ({
  openapi: { method, path: `/api/chat${path}`, summary, tags: ["chat"], protect: true },
});

export const chatRouter = {
  conversations: protectedProcedure
    .meta(rest("GET", "/conversations", "The caller's conversations, most recent first"))
    .input(conversationsInput)
    .output(conversationsOutput)
    .query(async ({ ctx, input }) => {
      await ctx.readLimiter.take(ctx.user.id);
      const list = await ctx.chat.conversations.list(ctx.user.id, input);
      // lastMessage with its type and attachments.
      return { ...list, conversations: await ctx.attachments.withLastMessages(list.conversations) };
    }),

  conversation: protectedProcedure.input(conversationInput).query(async ({ ctx, input }) => {
    const conversation = await ctx.chat.conversations.get(input.conversationId, ctx.user.id);
    return ctx.attachments.withLastMessage(conversation);
  }),

  messages: protectedProcedure
    .meta(rest("GET", "/conversations/{conversationId}/messages", "A page of a conversation's messages, oldest first"))
    .input(messagesInput)
    .output(messagesOutput)
    .query(async ({ ctx, input }) => {
      await ctx.readLimiter.take(ctx.user.id);
      const page = await ctx.chat.messages.page(ctx.user.id, input);
      // Masked for the receiver, "deleted" hidden (moderation/views.ts).
      const messages = await ctx.moderation.viewMessages(ctx.user.id, input.conversationId, page);
      const attached = await ctx.attachments.ofMessages(messages);
      return {
        ...page,
        messages: messages.map((message) => ({
          ...message,
          attachments: message.deleted ? [] : ctx.attachments.views(attached.get(message.id)),
        })),
      };
    }),

  conversationByJobRequest: protectedProcedure
    .meta(rest("GET", "/job-requests/{jobRequestId}/conversation", "The conversation of a job request"))
    .input(conversationByJobRequestInput)
    .output(conversationView)
    .query(async ({ ctx, input }) => {
      const conversation = await ctx.chat.conversations.byJobRequest(input.jobRequestId, ctx.user.id);
      return ctx.attachments.withLastMessage(conversation);
    }),

  unreadCount: protectedProcedure
    .meta(rest("GET", "/unread-count", "The caller's unread messages, over all conversations"))
    .output(unreadCountOutput)
    .query(({ ctx }) => ctx.chat.conversations.unreadCount(ctx.user.id)),

  sendMessage: protectedProcedure
    .meta(rest("POST", "/conversations/{conversationId}/messages", "Send a message"))
    .input(sendMessageInput)
    .output(sentMessageOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.sendLimiter.take(ctx.user.id);
      // Blocked or suspended senders are refused; both facts and the masking are cached (no extra query).
      await ctx.moderation.assertMaySend(ctx.user.id, input.conversationId);
      // Only a message with attachments looks them up (and checks uploads not checked yet).
      const attached = input.attachmentIds
        ? await ctx.attachments.bind(ctx.user.id, input.conversationId, input.attachmentIds, input.clientMessageId)
        : undefined;
      const sent = await ctx.chat.messages.send(ctx.user.id, input, ctx.ownSends, attached).catch(async (error) => {
        if (attached) await ctx.attachments.release(attached.messageId);
        throw error;
      });
      // A retried clientMessageId answers with the first message; this one's claim is given back.
      if (attached && sent.messageId !== attached.messageId) await ctx.attachments.release(attached.messageId);
      ctx.typing.sent(ctx.user.id, input.conversationId);
      const { moderation } = ctx;
      const masking = moderation.knownMasking(input.conversationId) ?? (await moderation.masking(input.conversationId));
      // A retried clientMessageId answers with the stored message, whose files are looked up.
      const attachments =
        sent.type === "text" || sent.type === "system"
          ? NO_ATTACHMENTS
          : ctx.attachments.views(
              sent.attachments ??
                (await ctx.attachments.ofMessages([{ id: sent.messageId, type: sent.type }])).get(sent.messageId),
            );
      return moderation.senderView(sent, masking, attachments);
    }),

  markRead: protectedProcedure
    .meta(rest("PATCH", "/conversations/{conversationId}/read", "Mark the conversation's messages to the caller read"))
    .input(conversationInput)
    .output(markReadOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.readLimiter.take(ctx.user.id);
      const { conversationId, readCount } = await ctx.chat.receipts.markRead(ctx.user.id, input.conversationId);
      return { conversationId, readCount };
    }),

  /**
   * The conversation's messages as they arrive (subscribing = joining the room). With
   * `lastEventId`, first every stored message after it, then live ones: no gap, no duplicate.
   * Every message this hands to its receiver's connection counts as delivered (see `onMessagesDelivered`).
   * With `echo: false`, the messages this connection sends are left out while it is open (a
   * resumed subscription may replay them, by `messageId`, like any message after `lastEventId`).
   */
  onMessage: protectedProcedure.input(onMessageInput).subscription(async ({ ctx, input, signal }) => {
    const { conversationId, lastEventId, echo } = input;
    const userId = ctx.user.id;
    const { chat, ownSends } = ctx;
    await chat.conversations.assertParticipant(conversationId, userId);
    // Listen before reading the database, so nothing committed in between is missed.
    const live = await listenWithGaps(ctx.bus, topics.messages(conversationId), signal);
    const startSeq = lastEventId
      ? await chat.messages.seqOf(conversationId, lastEventId)
      : await chat.conversations.lastSeq(conversationId);
    const delivered = chat.receipts.tracker(conversationId, userId, startSeq);
    const moderation = ctx.moderation;
    const { attachments } = ctx;
    // Live events carry their attachments; messages read back from the database look them up.
    const attachmentsOf = async (message: MessageEvent) => {
      const carried =
        message.attachments ??
        (await attachments.ofMessages([{ id: message.messageId, type: message.type }])).get(message.messageId);
      return attachments.views(carried);
    };
    const sentHere = (message: MessageEvent) => !echo && message.senderId === userId && ownSends.has(message.messageId);
    // Watched from now, before the client hears that the subscription started, until it ends
    // (or is aborted, for a generator that is never read).
    const unwatch = echo ? undefined : ownSends.watch(conversationId);
    if (unwatch) signal?.addEventListener("abort", unwatch, { once: true });
    // The user views the conversation while this is open (and their page is visible): no push, no email.
    const unview = ctx.notifications.watching(userId, ctx.connectionId, conversationId);
    signal?.addEventListener("abort", unview, { once: true });

    return (async function* () {
      try {
        const readAfter = (afterSeq: number, untilSeq?: number) =>
          chat.messages.after(conversationId, afterSeq, untilSeq);
        for await (const message of resume({ live, readAfter, startSeq })) {
          if (sentHere(message)) continue;
          delivered(message);
          // Runs per message per subscriber: no wait unless something must be read.
          const masking = moderation.knownMasking(conversationId) ?? (await moderation.masking(conversationId));
          const view = moderation.viewEvent(userId, message, masking, NO_ATTACHMENTS);
          if (!view.deleted && (message.type === "image" || message.type === "file"))
            view.attachments = await attachmentsOf(message);
          yield tracked(message.messageId, view);
        }
      } finally {
        unwatch?.();
        unview();
      }
    })();
  }),

  /** Read receipts: the other side marked messages read. */
  onMessagesRead: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.conversations.assertParticipant(input.conversationId, ctx.user.id);
    return listen<MessagesReadEvent>(ctx.bus, topics.reads(input.conversationId), signal);
  }),

  /**
   * Delivery receipts: messages that reached a session of their receiver for the first time
   * (live, by catch-up, or by loading them with `messages`). Together with `onMessagesRead`
   * this moves a message's status sent → delivered → read; `messages` returns the status
   * for history. Each message is reported once, whichever of the receiver's devices got it.
   */
  onMessagesDelivered: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.conversations.assertParticipant(input.conversationId, ctx.user.id);
    return listen<MessagesDeliveredEvent>(ctx.bus, topics.deliveries(input.conversationId), signal);
  }),

  /**
   * The caller is typing (or stopped). Call it again every couple of seconds while typing:
   * an unrenewed "typing" expires. Repeats within the throttle window are dropped (`throttled`).
   */
  typing: protectedProcedure.input(typingInput).mutation(async ({ ctx, input }) => {
    const { conversationId, isTyping } = input;
    await ctx.typingLimiter.take(ctx.user.id);
    await ctx.chat.conversations.assertParticipant(conversationId, ctx.user.id);
    const sent = ctx.typing.set(ctx.user.id, conversationId, isTyping);
    return { conversationId, isTyping, throttled: !sent };
  }),

  /** The other participant started or stopped typing, including `isTyping: false` when their "typing" expired. */
  onTyping: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    const { otherId } = await ctx.chat.conversations.assertParticipant(input.conversationId, ctx.user.id);
    const typing = await ctx.typing.watch(input.conversationId, ctx.user.id, signal);
    return ctx.moderation.hideTyping(ctx.user.id, otherId, typing);
  }),

  /**
   * Whether the other participant is connected (any tab or device, on any instance), and when
   * they were last seen while they are not. Yields the current state first, then changes.
   */
  onPresence: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    const { conversationId } = input;
    const { otherId } = await ctx.chat.conversations.assertParticipant(conversationId, ctx.user.id);
    const live = await listenWithGaps(ctx.bus, topics.presence(otherId), signal);
    const presence = ctx.presence;
    // Events can be lost with pub/sub, so the state is also re-read now and then.
    const recheckEvery = presence.expireMs;
    let recheckAt = Date.now() + recheckEvery;

    const moderation = ctx.moderation;
    const userId = ctx.user.id;
    const states = async function* () {
      let last = await presence.get(otherId);
      yield { conversationId, ...last };
      for await (const item of withDeadline(live, () => recheckAt)) {
        const next = item === DEADLINE || item === MISSED ? await presence.get(otherId) : { ...item };
        if (item === DEADLINE || item === MISSED) recheckAt = Date.now() + recheckEvery;
        if (next.online === last.online && next.lastSeen?.getTime() === last.lastSeen?.getTime()) continue;
        last = next;
        yield { conversationId, userId: otherId, online: next.online, lastSeen: next.lastSeen };
      }
    };
    // A blocker shows offline, never last seen, to the user they blocked.
    return moderation.hidePresence(userId, otherId, states());
  }),

  /** Changes to any of the caller's conversations, to keep the list and unread badges live. */
  onInbox: protectedProcedure.subscription(({ ctx, signal }) =>
    listen<InboxEvent>(ctx.bus, topics.inbox(ctx.user.id), signal),
  ),
  ...attachmentProcedures,
  ...searchProcedures,
  ...chatSafetyProcedures,
  ...muteProcedures,
} satisfies TRPCRouterRecord;
