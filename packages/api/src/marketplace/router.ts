import type { TRPCRouterRecord } from "@trpc/server";
import { jobRequestStatusProcedures } from "../moderation/router.ts";
import { protectedProcedure } from "../trpc.ts";
import { acceptOfferInput, createJobRequestInput, createOfferInput } from "./schemas.ts";

export const jobRequestRouter = {
  /** The caller becomes the job's seeker. */
  create: protectedProcedure.input(createJobRequestInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.marketplace.createJobRequest(ctx.user, input.title);
  }),

  list: protectedProcedure.query(async ({ ctx }) => {
    await ctx.readLimiter.take(ctx.user.id);
    return ctx.marketplace.listJobRequests(ctx.user.id);
  }),

  ...jobRequestStatusProcedures,
} satisfies TRPCRouterRecord;

export const offerRouter = {
  /** The caller becomes the offer's provider. */
  create: protectedProcedure.input(createOfferInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.marketplace.createOffer(ctx.user, input.jobRequestId, input.price);
  }),

  /** Only the job's seeker; opens the conversation. */
  accept: protectedProcedure.input(acceptOfferInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    const { offer, conversation } = await ctx.marketplace.acceptOffer(ctx.user.id, input.offerId);
    // Its lastMessage (the opening notice) with type and attachments, as chat.conversation shows it.
    return { offer, conversation: await ctx.attachments.withLastMessage(conversation) };
  }),
} satisfies TRPCRouterRecord;
