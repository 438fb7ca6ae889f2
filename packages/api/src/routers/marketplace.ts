import type { TRPCRouterRecord } from "@trpc/server";
import { acceptOfferInput, createJobRequestInput, createOfferInput } from "../schemas/index.ts";
import { protectedProcedure } from "../trpc.ts";

export const jobRequestRouter = {
  /** The caller becomes the job's seeker. */
  create: protectedProcedure
    .input(createJobRequestInput)
    .mutation(({ ctx, input }) => ctx.marketplace.createJobRequest(ctx.user, input.title)),

  list: protectedProcedure.query(({ ctx }) => ctx.marketplace.listJobRequests(ctx.user.id)),
} satisfies TRPCRouterRecord;

export const offerRouter = {
  /** The caller becomes the offer's provider. */
  create: protectedProcedure
    .input(createOfferInput)
    .mutation(({ ctx, input }) => ctx.marketplace.createOffer(ctx.user, input.jobRequestId, input.price)),

  /** Only the job's seeker; opens the conversation. */
  accept: protectedProcedure
    .input(acceptOfferInput)
    .mutation(({ ctx, input }) => ctx.marketplace.acceptOffer(ctx.user.id, input.offerId)),
} satisfies TRPCRouterRecord;
