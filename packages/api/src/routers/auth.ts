import type { TRPCRouterRecord } from "@trpc/server";
import { signToken } from "../auth.ts";
import { DomainError } from "../errors.ts";
import { demoSignInInput } from "../schemas/index.ts";
import { protectedProcedure, publicProcedure } from "../trpc.ts";

export const authRouter = {
  me: protectedProcedure.query(({ ctx }) => ({
    id: ctx.user.id,
    name: ctx.user.name,
    expiresAt: new Date(ctx.user.expiresAt),
  })),

  /** The seeded demo users one may sign in as; empty outside demo mode. */
  demoUsers: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.demo) return [];
    return ctx.prisma.user.findMany({
      where: { id: { in: ctx.demo.userIds } },
      select: { id: true, name: true },
      orderBy: { id: "asc" },
    });
  }),

  /** Demo mode only: a token for a seeded demo user. */
  demoSignIn: publicProcedure.input(demoSignInInput).mutation(async ({ ctx, input }) => {
    if (!ctx.demo) throw new DomainError("FORBIDDEN", "Demo sign-in is switched off on this server.");
    if (!ctx.demo.userIds.includes(input.userId))
      throw new DomainError("NOT_FOUND", "There is no demo user with that id.");
    const user = await ctx.prisma.user.findUniqueOrThrow({ where: { id: input.userId } });
    return { token: signToken(ctx.demo.auth, user), user: { id: user.id, name: user.name } };
  }),
} satisfies TRPCRouterRecord;
