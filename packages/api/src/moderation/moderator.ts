import { notices } from "../chat/notices.ts";
import {
  NAAFE,
  type OpenCloseDeps,
  publishSystemMessage,
  setConversationOpen,
  storeSystemMessage,
} from "../chat/system-messages.ts";
import { badRequest, DomainError, notFound } from "../errors.ts";
import type { RateLimit, RateLimiter } from "../platform/limits.ts";
import { type AuditEntry, auditPage, recordAudit } from "./audit.ts";
import type { SafetyState } from "./safety-state.ts";

interface ModeratorDeps extends OpenCloseDeps {
  now: () => Date;
  state: SafetyState;
  settings: { moderatorLimit: RateLimit };
  createLimiter: (name: string, limit: RateLimit, what: string) => RateLimiter;
}

/** Suspensions end within this long: a permanent ban is the marketplace's decision, not the chat's. */
const MAX_SUSPENSION_MS = 10 * 365 * 24 * 3_600_000;

/**
 * What moderators read and do. Every call writes an audit row first (who, what, when, why):
 * if the row cannot be written, nothing is read or done.
 */
export function createModeratorActions({
  prisma,
  publish,
  outbox,
  now,
  state,
  settings,
  createLimiter,
}: ModeratorDeps) {
  const limiter = createLimiter("moderator", settings.moderatorLimit, "moderating");

  /** A notice from Naafe both participants see, in an open or a closed conversation. */
  async function postNotice(conversationId: string, content: string) {
    const conversation = await prisma.conversation.findUniqueOrThrow({
      where: { id: conversationId },
      select: { participantSeeker: true, participantProvider: true },
    });
    const event = await storeSystemMessage(
      prisma,
      { conversationId, senderId: NAAFE, receiverId: NAAFE, content },
      now(),
    );
    publishSystemMessage(publish, event, [conversation.participantSeeker, conversation.participantProvider]);
  }

  async function audited(moderatorId: string, entry: Omit<AuditEntry, "moderatorId">) {
    await limiter.take(moderatorId);
    await recordAudit(prisma, { moderatorId, ...entry }, now());
  }

  return {
    async reports(
      moderatorId: string,
      input: { status: "open" | "resolved"; limit: number; cursor?: string | undefined },
    ) {
      await audited(moderatorId, {
        action: "reports.list",
        targetType: "report",
        targetId: null,
        reason: input.status,
      });
      const rows = await prisma.report.findMany({
        where: { status: input.status },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        take: input.limit + 1,
        ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
      });
      const reports = rows.slice(0, input.limit);
      return { reports, nextCursor: rows.length > input.limit ? (reports.at(-1)?.id ?? null) : null };
    },

    /** A conversation as stored: original text, every earlier version of edited or deleted messages, its reports. */
    async conversation(
      moderatorId: string,
      input: { conversationId: string; reason?: string | undefined; beforeSeq?: number | undefined; limit: number },
    ) {
      const { conversationId } = input;
      const openReports = await prisma.report.findMany({
        where: { conversationId, status: "open" },
        select: { id: true },
        take: 20,
      });
      const why =
        input.reason ?? (openReports.length > 0 ? `open reports: ${openReports.map((r) => r.id).join(", ")}` : null);
      const conversation = await prisma.conversation.findUnique({
        where: { id: conversationId },
        include: { jobRequest: { select: { id: true, title: true, status: true, closedAt: true } } },
      });
      if (!conversation) throw notFound("This conversation");
      await audited(moderatorId, {
        action: "conversation.read",
        targetType: "conversation",
        targetId: conversationId,
        reason: why,
      });
      const newestFirst = await prisma.message.findMany({
        where: { conversationId, ...(input.beforeSeq === undefined ? {} : { seq: { lt: input.beforeSeq } }) },
        orderBy: { seq: "desc" },
        take: input.limit,
        include: { changes: { orderBy: { seq: "asc" }, take: 50 } },
      });
      const reports = await prisma.report.findMany({
        where: { conversationId },
        orderBy: { createdAt: "desc" },
        take: 50,
      });
      const messages = newestFirst.reverse();
      return {
        conversation,
        messages,
        reports,
        nextBeforeSeq: messages.length === input.limit ? (messages[0]?.seq ?? null) : null,
      };
    },

    closeConversation: (moderatorId: string, input: { conversationId: string; reason: string }) =>
      setOpen(moderatorId, input, false),

    reopenConversation: (moderatorId: string, input: { conversationId: string; reason: string }) =>
      setOpen(moderatorId, input, true),

    async suspendUser(moderatorId: string, input: { userId: string; until: Date; reason: string }) {
      const { userId, until, reason } = input;
      const at = now();
      if (until.getTime() <= at.getTime()) throw badRequest("`until` must be in the future.");
      if (until.getTime() - at.getTime() > MAX_SUSPENSION_MS)
        throw badRequest("A suspension can last at most 10 years.");
      if (userId === moderatorId) throw badRequest("You cannot suspend yourself.");
      await audited(moderatorId, {
        action: "user.suspend",
        targetType: "user",
        targetId: userId,
        reason: `until ${until.toISOString()}: ${reason}`,
      });
      await prisma.suspension.upsert({
        where: { userId },
        create: { userId, until, reason, moderatorId },
        update: { until, reason, moderatorId },
      });
      state.changed({ kind: "suspension", userId });
      return { userId, until };
    },

    async resolveReport(
      moderatorId: string,
      input: { reportId: string; resolution?: string | undefined; notifyParticipants?: boolean },
    ) {
      const { reportId } = input;
      const report = await prisma.report.findUnique({
        where: { id: reportId },
        select: { status: true, conversationId: true },
      });
      if (!report) throw notFound("This report");
      await audited(moderatorId, {
        action: "report.resolve",
        targetType: "report",
        targetId: reportId,
        reason: input.resolution ?? null,
      });
      const resolved = await prisma.report.updateMany({
        where: { id: reportId, status: "open" },
        data: { status: "resolved", resolvedBy: moderatorId, resolvedAt: now(), resolution: input.resolution ?? null },
      });
      if (resolved.count === 0) throw new DomainError("CONFLICT", "This report is already resolved.");
      if (input.notifyParticipants) await postNotice(report.conversationId, notices.reviewedByNaafe);
      return { reportId, status: "resolved" as const };
    },

    async auditLog(moderatorId: string, input: { limit: number; before?: string | undefined }) {
      await audited(moderatorId, { action: "audit.read", targetType: "audit", targetId: null, reason: null });
      return auditPage(prisma, input);
    },

    close: () => limiter.close(),
  };

  async function exists(conversationId: string) {
    const found = await prisma.conversation.findUnique({ where: { id: conversationId }, select: { id: true } });
    if (!found) throw notFound("This conversation");
  }

  /** Closes (read-only, "closed by Naafe") or reopens a conversation, audited first. */
  async function setOpen(moderatorId: string, input: { conversationId: string; reason: string }, open: boolean) {
    const { conversationId, reason } = input;
    await exists(conversationId);
    await audited(moderatorId, {
      action: open ? "conversation.reopen" : "conversation.close",
      targetType: "conversation",
      targetId: conversationId,
      reason,
    });
    const notice = open ? notices.reopenedByNaafe : notices.closedByNaafe;
    const change = { conversationId, open, notice, reason: open ? null : reason };
    const changed = await setConversationOpen({ prisma, publish, outbox }, change, now());
    if (!changed) throw new DomainError("CONFLICT", `This conversation is already ${open ? "open" : "closed"}.`);
    return { conversationId, isActive: open };
  }
}
