import { type TRPCRouterRecord, tracked } from "@trpc/server";
import {
  type InboxEvent,
  type MessageEvent,
  type MessagesDeliveredEvent,
  type MessagesReadEvent,
  topics,
} from "../bus/event-bus.ts";
import { DEADLINE, listen, listenWithGaps, MISSED, withDeadline } from "../bus/listen.ts";
import {
  conversationByJobRequestInput,
  conversationInput,
  conversationsInput,
  messagesInput,
  onMessageInput,
  sendMessageInput,
  typingInput,
} from "../schemas/index.ts";
import { protectedProcedure } from "../trpc.ts";

export const chatRouter = {
  conversations: protectedProcedure
    .input(conversationsInput)
    .query(({ ctx, input }) => ctx.chat.conversations(ctx.user.id, input)),

  conversation: protectedProcedure
    .input(conversationInput)
    .query(({ ctx, input }) => ctx.chat.conversation(input.conversationId, ctx.user.id)),

  messages: protectedProcedure.input(messagesInput).query(({ ctx, input }) => ctx.chat.messages(ctx.user.id, input)),

  conversationByJobRequest: protectedProcedure
    .input(conversationByJobRequestInput)
    .query(({ ctx, input }) => ctx.chat.conversationByJobRequest(input.jobRequestId, ctx.user.id)),

  unreadCount: protectedProcedure.query(({ ctx }) => ctx.chat.unreadCount(ctx.user.id)),

  sendMessage: protectedProcedure.input(sendMessageInput).mutation(async ({ ctx, input }) => {
    await ctx.sendLimiter.take(ctx.user.id);
    const sent = await ctx.chat.sendMessage(ctx.user.id, input, ctx.ownSends);
    ctx.typing.sent(ctx.user.id, input.conversationId);
    return sent;
  }),

  markRead: protectedProcedure.input(conversationInput).mutation(async ({ ctx, input }) => {
    const { conversationId, readCount } = await ctx.chat.markRead(ctx.user.id, input.conversationId);
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
    const { ownSends } = ctx;
    await ctx.chat.assertParticipant(conversationId, userId);
    // Listen before reading the database, so nothing committed in between is missed.
    const live = await listenWithGaps(ctx.bus, topics.messages(conversationId), signal);
    let lastSeq = lastEventId
      ? await ctx.chat.seqOf(conversationId, lastEventId)
      : await ctx.chat.messageCount(conversationId);
    const chat = ctx.chat;
    const delivery = chat.deliveryBatcher(conversationId, userId, lastSeq);

    const sentHere = (message: MessageEvent) => !echo && message.senderId === userId && ownSends.has(message.messageId);
    /** Whether to hand `message` over; one that is, counts as delivered. */
    const handOver = (message: MessageEvent) => {
      if (sentHere(message)) return false;
      delivery.received(message);
      return true;
    };
    // Watched from now, before the client hears that the subscription started, until it ends
    // (or is aborted, for a generator that is never read).
    const unwatch = echo ? undefined : ownSends.watch(conversationId);
    if (unwatch) signal?.addEventListener("abort", unwatch, { once: true });

    return (async function* () {
      try {
        for await (const message of chat.messagesAfter(conversationId, lastSeq)) {
          if (handOver(message)) yield tracked(message.messageId, message);
          lastSeq = message.seq;
        }
        for await (const event of live) {
          // The bus may have dropped events (Redis reconnected): whatever was stored meanwhile is in the database.
          if (event === MISSED || event.seq > lastSeq + 1) {
            const untilSeq = event === MISSED ? undefined : event.seq - 1;
            for await (const message of chat.messagesAfter(conversationId, lastSeq, untilSeq)) {
              if (handOver(message)) yield tracked(message.messageId, message);
              lastSeq = message.seq;
            }
          }
          if (event === MISSED || event.seq <= lastSeq) continue; // already sent from the database
          if (handOver(event)) yield tracked(event.messageId, event);
          lastSeq = event.seq;
        }
      } finally {
        unwatch?.();
        delivery.flush();
      }
    })();
  }),

  /** Read receipts: the other side marked messages read. */
  onMessagesRead: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.assertParticipant(input.conversationId, ctx.user.id);
    return listen<MessagesReadEvent>(ctx.bus, topics.reads(input.conversationId), signal);
  }),

  /**
   * Delivery receipts: messages that reached a session of their receiver for the first time
   * (live, by catch-up, or by loading them with `messages`). Together with `onMessagesRead`
   * this moves a message's status sent → delivered → read; `messages` returns the status
   * for history. Each message is reported once, whichever of the receiver's devices got it.
   */
  onMessagesDelivered: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.assertParticipant(input.conversationId, ctx.user.id);
    return listen<MessagesDeliveredEvent>(ctx.bus, topics.deliveries(input.conversationId), signal);
  }),

  /**
   * The caller is typing (or stopped). Call it again every couple of seconds while typing:
   * an unrenewed "typing" expires. Repeats within the throttle window are dropped (`throttled`).
   */
  typing: protectedProcedure.input(typingInput).mutation(async ({ ctx, input }) => {
    const { conversationId, isTyping } = input;
    await ctx.typingLimiter.take(ctx.user.id);
    await ctx.chat.assertParticipant(conversationId, ctx.user.id);
    const sent = ctx.typing.set(ctx.user.id, conversationId, isTyping);
    return { conversationId, isTyping, throttled: !sent };
  }),

  /** The other participant started or stopped typing, including `isTyping: false` when their "typing" expired. */
  onTyping: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.assertParticipant(input.conversationId, ctx.user.id);
    return ctx.typing.watch(input.conversationId, ctx.user.id, signal);
  }),

  /**
   * Whether the other participant is connected (any tab or device, on any instance), and when
   * they were last seen while they are not. Yields the current state first, then changes.
   */
  onPresence: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    const { conversationId } = input;
    const { otherId } = await ctx.chat.assertParticipant(conversationId, ctx.user.id);
    const live = await listenWithGaps(ctx.bus, topics.presence(otherId), signal);
    const presence = ctx.presence;
    // Events can be lost with pub/sub, so the state is also re-read now and then.
    const recheckEvery = presence.expireMs;
    let recheckAt = Date.now() + recheckEvery;

    return (async function* () {
      let last = await presence.get(otherId);
      yield { conversationId, ...last };
      for await (const item of withDeadline(live, () => recheckAt)) {
        const next = item === DEADLINE || item === MISSED ? await presence.get(otherId) : { ...item };
        if (item === DEADLINE || item === MISSED) recheckAt = Date.now() + recheckEvery;
        if (next.online === last.online && next.lastSeen?.getTime() === last.lastSeen?.getTime()) continue;
        last = next;
        yield { conversationId, userId: otherId, online: next.online, lastSeen: next.lastSeen };
      }
    })();
  }),

  /** Changes to any of the caller's conversations, to keep the list and unread badges live. */
  onInbox: protectedProcedure.subscription(({ ctx, signal }) =>
    listen<InboxEvent>(ctx.bus, topics.inbox(ctx.user.id), signal),
  ),
} satisfies TRPCRouterRecord;
