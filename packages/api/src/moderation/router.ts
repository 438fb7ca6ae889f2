import type { TRPCRouterRecord } from "@trpc/server";
import { conversationInput } from "../chat/schemas.ts";
import { DomainError } from "../errors.ts";
import { protectedProcedure } from "../trpc.ts";
import {
  auditLogInput,
  closeConversationInput,
  editMessageInput,
  messageIdInput,
  moderatorConversationInput,
  onMessageChangedInput,
  reportInput,
  reportsInput,
  resolveReportInput,
  setJobStatusInput,
  suspendUserInput,
  userInput,
} from "./schemas.ts";

/** Only tokens with the claim `role: "moderator"`. */
const moderatorProcedure = protectedProcedure.use(function isModerator({ ctx, next }) {
  if (ctx.user.role !== "moderator") throw new DomainError("FORBIDDEN", "Only Naafe's moderators can do this.");
  return next();
});

/** Participants' trust and safety procedures, part of `chat`. */
export const chatSafetyProcedures = {
  /** The user can no longer send to the caller, nor see the caller's presence or typing. */
  block: protectedProcedure
    .input(userInput)
    .mutation(({ ctx, input }) => ctx.moderation.block(ctx.user.id, input.userId)),

  unblock: protectedProcedure
    .input(userInput)
    .mutation(({ ctx, input }) => ctx.moderation.unblock(ctx.user.id, input.userId)),

  /** Reports a conversation or one of its messages to Naafe's moderators, with a snapshot of the messages. */
  report: protectedProcedure.input(reportInput).mutation(({ ctx, input }) => ctx.moderation.report(ctx.user.id, input)),

  /** Sends the caller's phone number and email (from their account) to the other participant, unmasked. */
  shareContact: protectedProcedure
    .input(conversationInput)
    .mutation(({ ctx, input }) => ctx.moderation.shareContact(ctx.user, input.conversationId)),

  /** Within the edit window of sending: replaces the text; the other side sees "edited" (`onMessageChanged`). */
  editMessage: protectedProcedure
    .input(editMessageInput)
    .mutation(({ ctx, input }) =>
      ctx.moderation.editMessage(ctx.user.id, input.messageId, input.content, ctx.sendLimiter),
    ),

  /** Within the edit window of sending: the message shows as deleted on both sides (moderators keep the text). */
  deleteMessage: protectedProcedure
    .input(messageIdInput)
    .mutation(({ ctx, input }) => ctx.moderation.deleteMessage(ctx.user.id, input.messageId, ctx.sendLimiter)),

  /**
   * Edits and deletions in a conversation as they happen, as tracked events (id = changeId); with
   * `lastEventId`, first every change after it, so a reconnecting client misses none.
   */
  onMessageChanged: protectedProcedure
    .input(onMessageChangedInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.moderation.onMessageChanged(ctx.user.id, input.conversationId, input.lastEventId, signal),
    ),
} satisfies TRPCRouterRecord;

/** The seeker closes their job: part of `jobRequest`. */
export const jobRequestStatusProcedures = {
  /** `completed` (after an accepted offer) or `cancelled`; the conversation becomes read-only after a grace period. */
  setStatus: protectedProcedure
    .input(setJobStatusInput)
    .mutation(({ ctx, input }) => ctx.moderation.setJobStatus(ctx.user.id, input)),
} satisfies TRPCRouterRecord;

/** Naafe's moderators. Every call is written to the audit log. */
export const moderationRouter = {
  reports: moderatorProcedure
    .input(reportsInput)
    .query(({ ctx, input }) => ctx.moderation.moderator.reports(ctx.user.id, input)),

  conversation: moderatorProcedure
    .input(moderatorConversationInput)
    .query(({ ctx, input }) => ctx.moderation.moderator.conversation(ctx.user.id, input)),

  closeConversation: moderatorProcedure
    .input(closeConversationInput)
    .mutation(({ ctx, input }) => ctx.moderation.moderator.closeConversation(ctx.user.id, input)),

  reopenConversation: moderatorProcedure
    .input(closeConversationInput)
    .mutation(({ ctx, input }) => ctx.moderation.moderator.reopenConversation(ctx.user.id, input)),

  suspendUser: moderatorProcedure
    .input(suspendUserInput)
    .mutation(({ ctx, input }) => ctx.moderation.moderator.suspendUser(ctx.user.id, input)),

  resolveReport: moderatorProcedure
    .input(resolveReportInput)
    .mutation(({ ctx, input }) => ctx.moderation.moderator.resolveReport(ctx.user.id, input)),

  auditLog: moderatorProcedure
    .input(auditLogInput)
    .query(({ ctx, input }) => ctx.moderation.moderator.auditLog(ctx.user.id, input)),
} satisfies TRPCRouterRecord;
