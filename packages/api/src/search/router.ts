import type { TRPCRouterRecord } from "@trpc/server";
import { protectedProcedure } from "../trpc.ts";
import { searchInput } from "./schemas.ts";

/** Spread into the chat router: `chat.search`. */
export const searchProcedures = {
  /**
   * The caller's messages that match `query` (Arabic and English, whole words, stems, parts of
   * words and numbers), best first. `highlights` are UTF-16 ranges of `content`.
   */
  search: protectedProcedure.input(searchInput).query(async ({ ctx, input }) => {
    await ctx.searchLimiter.take(ctx.user.id);
    return ctx.search.search(ctx.user.id, input);
  }),
} satisfies TRPCRouterRecord;
