import { type TRPCRouterRecord, tracked } from "@trpc/server";
import { type InboxEvent, type MessagesReadEvent, topics } from "../bus/event-bus.ts";
import { listen } from "../bus/listen.ts";
import {
  conversationByJobRequestInput,
  conversationInput,
  conversationsInput,
  messagesInput,
  onMessageInput,
  sendMessageInput,
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

  sendMessage: protectedProcedure.input(sendMessageInput).mutation(({ ctx, input }) => {
    ctx.sendLimiter.take(ctx.user.id);
    return ctx.chat.sendMessage(ctx.user.id, input);
  }),

  markRead: protectedProcedure.input(conversationInput).mutation(async ({ ctx, input }) => {
    const { conversationId, readCount } = await ctx.chat.markRead(ctx.user.id, input.conversationId);
    return { conversationId, readCount };
  }),

  /**
   * The conversation's messages as they arrive (subscribing = joining the room). With
   * `lastEventId`, first every stored message after it, then live ones: no gap, no duplicate.
   */
  onMessage: protectedProcedure.input(onMessageInput).subscription(async ({ ctx, input, signal }) => {
    const { conversationId, lastEventId } = input;
    await ctx.chat.assertParticipant(conversationId, ctx.user.id);
    // Listen before reading the database, so nothing committed in between is missed.
    const live = listen(ctx.bus, topics.messages(conversationId), signal);
    let lastSeq = lastEventId
      ? await ctx.chat.seqOf(conversationId, lastEventId)
      : await ctx.chat.messageCount(conversationId);
    const chat = ctx.chat;

    return (async function* () {
      for await (const message of chat.messagesAfter(conversationId, lastSeq)) {
        yield tracked(message.messageId, message);
        lastSeq = message.seq;
      }
      for await (const event of live) {
        if (event.seq <= lastSeq) continue; // already sent from the database
        // A live event was lost or overtaken (pub/sub is best effort): fill the gap from the database.
        const missed = event.seq > lastSeq + 1 ? chat.messagesAfter(conversationId, lastSeq, event.seq - 1) : [];
        for await (const message of missed) {
          yield tracked(message.messageId, message);
          lastSeq = message.seq;
        }
        yield tracked(event.messageId, event);
        lastSeq = event.seq;
      }
    })();
  }),

  /** Read receipts: the other side marked messages read. */
  onMessagesRead: protectedProcedure.input(conversationInput).subscription(async ({ ctx, input, signal }) => {
    await ctx.chat.assertParticipant(input.conversationId, ctx.user.id);
    return listen<MessagesReadEvent>(ctx.bus, topics.reads(input.conversationId), signal);
  }),

  /** Changes to any of the caller's conversations, to keep the list and unread badges live. */
  onInbox: protectedProcedure.subscription(({ ctx, signal }) =>
    listen<InboxEvent>(ctx.bus, topics.inbox(ctx.user.id), signal),
  ),
} satisfies TRPCRouterRecord;
