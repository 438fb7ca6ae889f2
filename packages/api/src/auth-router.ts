import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { signToken } from "./auth.ts";
import { DomainError } from "./errors.ts";
import { id } from "./schemas.ts";
import { protectedProcedure, publicProcedure } from "./trpc.ts";

const demoSignInInput = z.object({ userId: id });
const renewInput = z.object({ token: z.string().min(1, "A token is required.").max(8_192, "That token is too long.") });

export const authRouter = {
  me: protectedProcedure.query(({ ctx }) => ({
    id: ctx.user.id,
    name: ctx.user.name,
    expiresAt: new Date(ctx.user.expiresAt),
    /** `moderator` for Naafe's moderators (they may use `moderation.*`), else null. */
    role: ctx.user.role,
  })),

  /**
   * A WebSocket connection takes a fresh token of the same user before its own expires, keeping
   * its subscriptions. Over HTTP every request brings its token, so there is nothing to renew.
   */
  renew: protectedProcedure.input(renewInput).mutation(({ ctx, input }) => {
    if (!ctx.renewSession) {
      throw new DomainError("BAD_REQUEST", "Only a WebSocket connection is renewed; over HTTP, send the new token.");
    }
    const user = ctx.renewSession(input.token);
    return { expiresAt: new Date(user.expiresAt) };
  }),

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
    const token = signToken(ctx.demo.auth, {
      id: user.id,
      name: user.name,
      ...(user.email ? { email: user.email } : {}),
    });
    return { token, user: { id: user.id, name: user.name } };
  }),
} satisfies TRPCRouterRecord;
