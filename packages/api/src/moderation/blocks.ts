import type { PrismaClient } from "@naafe/db";
import { badRequest, DomainError, notFound } from "../errors.ts";
import type { SafetyState } from "./safety-state.ts";

/** Blocking is personal: it stops the blocked user's messages, presence and typing to the blocker, nothing else. */
export function createBlocks({ prisma, state, now }: { prisma: PrismaClient; state: SafetyState; now: () => Date }) {
  return {
    async block(blockerId: string, blockedId: string) {
      if (blockerId === blockedId) throw badRequest("You cannot block yourself.");
      const user = await prisma.user.findUnique({ where: { id: blockedId }, select: { id: true } });
      if (!user) throw notFound("This user");
      const created = await prisma.block.createMany({
        data: [{ blockerId, blockedId, createdAt: now() }],
        skipDuplicates: true,
      });
      if (created.count === 0) throw new DomainError("CONFLICT", "You have already blocked this user.");
      state.changed({ kind: "block", blockerId, blockedId });
      return { userId: blockedId, blocked: true };
    },

    async unblock(blockerId: string, blockedId: string) {
      const removed = await prisma.block.deleteMany({ where: { blockerId, blockedId } });
      if (removed.count === 0) throw notFound("A block of this user");
      state.changed({ kind: "block", blockerId, blockedId });
      return { userId: blockedId, blocked: false };
    },
  };
}
