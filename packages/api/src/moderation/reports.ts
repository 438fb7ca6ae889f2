import type { PrismaClient } from "@naafe/db";
import { badRequest } from "../errors.ts";
import type { reportReasons } from "./schemas.ts";

/** Messages kept with a report: the reported one and this many before it, or the conversation's latest. */
const SNAPSHOT_CONTEXT = 20;

export interface ReportInput {
  conversationId: string;
  messageId?: string | undefined;
  reason: (typeof reportReasons)[number];
  note?: string | undefined;
}

/**
 * Files a report with a snapshot of the reported messages as they are now (original text, not
 * masked), so a later edit or deletion does not change what moderators see. The caller has
 * checked that the reporter is a participant.
 */
export async function fileReport(prisma: PrismaClient, reporterId: string, input: ReportInput, at: Date) {
  const { conversationId, messageId } = input;
  let upToSeq: number | undefined;
  if (messageId !== undefined) {
    const reported = await prisma.message.findFirst({
      where: { id: messageId, conversationId },
      select: { seq: true },
    });
    if (!reported) throw badRequest("The reported message is not part of this conversation.");
    upToSeq = reported.seq;
  }
  const messages = await prisma.message.findMany({
    where: { conversationId, ...(upToSeq === undefined ? {} : { seq: { lte: upToSeq } }) },
    orderBy: { seq: "desc" },
    take: SNAPSHOT_CONTEXT + 1,
  });
  const snapshot = messages.reverse().map((message) => ({
    messageId: message.id,
    seq: message.seq,
    senderId: message.senderId,
    type: message.type,
    content: message.content,
    timestamp: message.timestamp.toISOString(),
    editedAt: message.editedAt?.toISOString() ?? null,
    deletedAt: message.deletedAt?.toISOString() ?? null,
  }));
  const report = await prisma.report.create({
    data: {
      reporterId,
      conversationId,
      messageId: messageId ?? null,
      reason: input.reason,
      note: input.note ?? null,
      snapshot,
      createdAt: at,
    },
  });
  return { reportId: report.id, status: report.status, createdAt: report.createdAt };
}
