import { z } from "zod";
import { notices } from "../chat/notices.ts";
import { type OpenCloseDeps, setConversationOpen } from "../chat/system-messages.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { topics } from "../platform/bus/event-bus.ts";
import { defineJob } from "../platform/jobs.ts";
import type { SafetyState } from "./safety-state.ts";

type ClosingDeps = OpenCloseDeps;

/**
 * The seeker marks their job completed (it was assigned) or cancelled. Contact details stop being
 * masked once it is completed; the conversation becomes read-only after the grace period
 * (`closeConversationsAfterGrace`).
 */
export async function setJobStatus(
  deps: ClosingDeps & { state: SafetyState },
  seekerId: string,
  input: { jobRequestId: string; status: "completed" | "cancelled" },
  at: Date,
) {
  const { prisma, publish, state } = deps;
  const job = await prisma.jobRequest.findUnique({
    where: { id: input.jobRequestId },
    include: { conversation: { select: { id: true, participantSeeker: true, participantProvider: true } } },
  });
  if (!job) throw notFound("This job request");
  if (job.seekerId !== seekerId) throw forbidden("Only the job request's seeker can change its status.");
  if (job.status === "completed" || job.status === "cancelled") {
    throw new DomainError("CONFLICT", `This job request is already ${job.status}.`);
  }
  if (input.status === "completed" && job.status !== "assigned") {
    throw new DomainError("CONFLICT", "Only a job with an accepted offer can be completed.");
  }
  const moved = await prisma.jobRequest.updateMany({
    where: { id: job.id, status: job.status },
    data: { status: input.status, closedAt: at },
  });
  if (moved.count === 0) throw new DomainError("CONFLICT", "This job request changed meanwhile; reload it.");
  const conversation = job.conversation;
  if (conversation) {
    state.changed({ kind: "job", conversationId: conversation.id });
    for (const userId of [conversation.participantSeeker, conversation.participantProvider]) {
      publish(topics.inbox(userId), { kind: "conversation", conversationId: conversation.id });
    }
  }
  return prisma.jobRequest.findUniqueOrThrow({ where: { id: job.id } });
}

/** How many conversations one run closes at most; a run that closed this many should be followed by another. */
export const GRACE_BATCH = 100;

/**
 * Closes the conversations whose job was completed or cancelled at least `graceMs` before `now`,
 * each with a notice, unless a moderator reopened it since. Meant to run as a scheduled job;
 * safe to run concurrently or repeatedly (a conversation is closed once). Returns how many it closed.
 */
export async function closeConversationsAfterGrace(deps: ClosingDeps & { graceMs: number }, now: Date) {
  const cutoff = new Date(now.getTime() - deps.graceMs);
  const due = await deps.prisma.$queryRaw<{ id: string; status: "completed" | "cancelled" }[]>`
    SELECT c."id", j."status"::text AS "status"
    FROM "Conversation" c JOIN "JobRequest" j ON j."id" = c."jobRequestId"
    WHERE c."isActive" AND j."status" IN ('completed', 'cancelled') AND j."closedAt" <= ${cutoff}
      AND (c."reopenedAt" IS NULL OR c."reopenedAt" < j."closedAt")
    ORDER BY j."closedAt"
    LIMIT ${GRACE_BATCH}`;
  let closed = 0;
  for (const { id, status } of due) {
    const change = { conversationId: id, open: false, notice: notices.jobClosed(status), reason: `job ${status}` };
    if (await setConversationOpen(deps, change, now)) closed++;
  }
  return { closed };
}

/** Every minute, one process closes what is due (a full batch is followed at once by another). */
export const closeAfterGraceJob = defineJob({
  name: "moderation.close-after-grace",
  payload: z.object({}),
  cron: "* * * * *",
  retry: { limit: 1, delaySeconds: 30 },
  timeoutSeconds: 300,
});
