import type { TRPCRouterRecord } from "@trpc/server";
import { protectedProcedure } from "../trpc.ts";
import { createUploadInput } from "./schemas.ts";

/** Spread into the chat router: `chat.createUpload`. */
export const attachmentProcedures = {
  /**
   * Starts an upload into a conversation the caller takes part in: send the file's bytes with
   * `method` to `url` with `headers`, then pass `uploadId` in `chat.sendMessage`'s `attachmentIds`.
   */
  createUpload: protectedProcedure.input(createUploadInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    // Whoever may not send here (blocked, suspended) may not upload here either.
    await ctx.moderation.assertMaySend(ctx.user.id, input.conversationId);
    return ctx.attachments.createUpload(ctx.user.id, input);
  }),
} satisfies TRPCRouterRecord;
