import { createHash } from "node:crypto";
import type { Database } from "@naafe/db";
import { z } from "zod";
import type { Conversations } from "../chat/conversations.ts";
import { defineJob, type JobAttempt, type JobQueue } from "../platform/jobs.ts";
import type { Mailer, UnsubscribeLinks } from "./email.ts";
import type { Pusher } from "./push.ts";
import { type DigestEntry, renderDigest } from "./templates.ts";
import type { Viewing } from "./viewing.ts";

/**
 * The send statement records, per receiver and conversation, since when nothing covered their
 * unread messages (`PendingNotification.pushFrom` / `emailFrom`). A sweep, every few seconds
 * on one process at a time, takes the rows that waited long enough (`FOR UPDATE SKIP LOCKED`),
 * clears their times and enqueues one push job per row and one digest job per user, in the same
 * transaction: each notification is decided once, whichever process sweeps. The jobs check the
 * rules when they run (still unread? viewing? muted? switched off?) and retry with backoff.
 */

export const sweepJob = defineJob({
  name: "notifications.sweep",
  // `slot`: which sweep of the chain this is (the cron backstop's payload has none).
  payload: z.object({ slot: z.number().int().optional() }),
  retry: { limit: 3, delaySeconds: 5, maxDelaySeconds: 60 },
  timeoutSeconds: 120,
  // Restarts the chain of sweeps if it ever broke (each sweep enqueues the next).
  cron: "* * * * *",
  // One runs every few seconds: a week of completed sweeps would be ~100k rows of nothing.
  keepCompletedSeconds: 600,
});

export const pushJob = defineJob({
  name: "notifications.push",
  payload: z.object({ userId: z.string(), conversationId: z.string() }),
  retry: { limit: 5, delaySeconds: 10, maxDelaySeconds: 600 },
  timeoutSeconds: 60,
});

export const digestJob = defineJob({
  name: "notifications.digest",
  payload: z.object({ userId: z.string() }),
  retry: { limit: 8, delaySeconds: 30, maxDelaySeconds: 3_600 },
  timeoutSeconds: 120,
});

export const notificationJobTypes = [sweepJob, pushJob, digestJob];

/** Rows one sweep takes; the rest wait for the next sweep. */
const SWEEP_BATCH = 1_000;
/** Unread conversations one digest lists. */
const DIGEST_CONVERSATIONS = 20;

export interface NotifierConfig {
  /** A push goes out once a message has been unread this long. */
  pushAfterMs: number;
  /** A digest goes out once a message has been unread this long; at most one per user per this window. */
  digestAfterMs: number;
  /** How often the sweep runs. */
  sweepEveryMs: number;
  /** The address people open the chat at, for links. */
  publicUrl: string;
}

export interface NotifierDeps {
  prisma: Database["prisma"];
  queue: JobQueue;
  conversations: Pick<Conversations, "get">;
  viewing: Viewing;
  pusher: Pusher | null;
  mailer: Mailer | null;
  links: UnsubscribeLinks | null;
  config: NotifierConfig;
  now?: () => Date;
}

export type PushResult = "sent" | "read" | "viewing" | "muted" | "off" | "no-device";
export type DigestResult = "sent" | "nothing-unread" | "off" | "no-address";

export function createNotifier(deps: NotifierDeps) {
  const { prisma, queue, conversations, viewing, pusher, mailer, links, config } = deps;
  const now = deps.now ?? (() => queue.now());

  /** One sweep: the due rows become push and digest jobs. Returns how many of each. */
  async function sweep(at = now()) {
    const pushCutoff = new Date(at.getTime() - config.pushAfterMs);
    const digestCutoff = new Date(at.getTime() - config.digestAfterMs);
    return prisma.$transaction(async (tx) => {
      const duePush = await tx.$queryRaw<{ userId: string; conversationId: string }[]>`
        SELECT "userId", "conversationId" FROM "PendingNotification"
        WHERE "pushFrom" <= ${pushCutoff}
        ORDER BY "pushFrom" LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`;
      if (pusher) for (const row of duePush) await queue.enqueue(pushJob, row, { tx });
      if (duePush.length > 0) {
        const users = duePush.map((row) => row.userId);
        const conversationIds = duePush.map((row) => row.conversationId);
        await tx.$executeRaw`
          UPDATE "PendingNotification" p SET "pushFrom" = NULL
          FROM unnest(${users}::text[], ${conversationIds}::text[]) AS d("userId", "conversationId")
          WHERE p."userId" = d."userId" AND p."conversationId" = d."conversationId"`;
      }

      // One digest per user per window: a user who had one less than a window ago waits.
      const dueDigest = await tx.$queryRaw<{ userId: string; conversationId: string }[]>`
        SELECT p."userId", p."conversationId" FROM "PendingNotification" p
        LEFT JOIN "NotificationPreference" n ON n."userId" = p."userId"
        WHERE p."emailFrom" <= ${digestCutoff}
          AND (n."lastDigestAt" IS NULL OR n."lastDigestAt" <= ${digestCutoff})
        LIMIT ${SWEEP_BATCH} FOR UPDATE OF p SKIP LOCKED`;
      const candidates = [...new Set(dueDigest.map((row) => row.userId))];
      // Claims each user's window: another sweep that took other rows of the same user at the
      // same moment waits on this row, then finds the window taken, and enqueues no second digest.
      const claimed =
        candidates.length === 0
          ? []
          : await tx.$queryRaw<{ userId: string }[]>`
              INSERT INTO "NotificationPreference" AS n ("userId", "lastDigestAt", "updatedAt")
              SELECT u, ${at}, ${at} FROM unnest(${candidates}::text[]) AS u
              ON CONFLICT ("userId") DO UPDATE SET "lastDigestAt" = excluded."lastDigestAt"
              WHERE n."lastDigestAt" IS NULL OR n."lastDigestAt" <= ${digestCutoff}
              RETURNING n."userId"`;
      const digestUsers = claimed.map((row) => row.userId);
      if (mailer) for (const userId of digestUsers) await queue.enqueue(digestJob, { userId }, { tx });
      // Only the rows this sweep locked: touching another sweep's would wait on it (a deadlock).
      // A digest lists every unread conversation of its user, whichever rows led to it.
      const digested = dueDigest.filter((row) => digestUsers.includes(row.userId));
      if (digested.length > 0) {
        await tx.$executeRaw`
          UPDATE "PendingNotification" p SET "emailFrom" = NULL
          FROM unnest(${digested.map((row) => row.userId)}::text[], ${digested.map((row) => row.conversationId)}::text[])
            AS d("userId", "conversationId")
          WHERE p."userId" = d."userId" AND p."conversationId" = d."conversationId"`;
      }
      // Rows this sweep locked that nothing waits on any more.
      const touched = [...duePush, ...digested];
      if (touched.length > 0) {
        await tx.$executeRaw`
          DELETE FROM "PendingNotification" p
          USING unnest(${touched.map((row) => row.userId)}::text[], ${touched.map((row) => row.conversationId)}::text[])
            AS d("userId", "conversationId")
          WHERE p."userId" = d."userId" AND p."conversationId" = d."conversationId"
            AND p."pushFrom" IS NULL AND p."emailFrom" IS NULL`;
      }
      return { pushes: pusher ? duePush.length : 0, digests: mailer ? digestUsers.length : 0 };
    });
  }

  async function mutedUntil(userId: string, conversationId: string, at: Date) {
    const mute = await prisma.conversationMute.findUnique({
      where: { userId_conversationId: { userId, conversationId } },
    });
    return mute !== null && (mute.until === null || mute.until > at);
  }

  async function preferencesOf(userId: string) {
    const row = await prisma.notificationPreference.findUnique({ where: { userId } });
    return { push: row?.push ?? true, email: row?.email ?? true };
  }

  const conversationUrl = (conversationId: string) =>
    new URL(`/#/c/${encodeURIComponent(conversationId)}`, config.publicUrl).toString();

  /** One push to every device of the user, unless the rules say no. */
  async function push({ userId, conversationId }: { userId: string; conversationId: string }): Promise<PushResult> {
    if (!pusher) return "off";
    const conversation = await conversations.get(conversationId, userId);
    if (conversation.unreadCount === 0) return "read";
    if (!(await preferencesOf(userId)).push) return "off";
    if (await mutedUntil(userId, conversationId, now())) return "muted";
    if (await viewing.isViewing(userId, conversationId)) return "viewing";
    const devices = await prisma.pushSubscription.findMany({ where: { userId }, take: 10 });
    if (devices.length === 0) return "no-device";
    const payload = {
      conversationId,
      title: conversation.otherParticipant.name ?? "New message",
      body: conversation.lastMessage?.deleted ? "Message deleted" : (conversation.lastMessage?.content ?? ""),
      unreadCount: conversation.unreadCount,
      url: conversationUrl(conversationId),
    };
    const outcomes = await Promise.allSettled(devices.map((device) => pusher.send(device, payload)));
    const gone = devices.filter((_, n) => {
      const outcome = outcomes[n];
      return outcome?.status === "fulfilled" && outcome.value === "gone";
    });
    if (gone.length > 0) await prisma.pushSubscription.deleteMany({ where: { id: { in: gone.map((d) => d.id) } } });
    const sent = outcomes.some((outcome) => outcome.status === "fulfilled" && outcome.value === "sent");
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    // Retried (as a whole) only when no device got it: a retry must not ring the others twice.
    if (!sent && failed) throw failed.reason;
    return sent ? "sent" : "no-device";
  }

  /** One email listing the user's unread conversations, unless the rules say no. */
  async function digest({ userId }: { userId: string }, attempt?: Pick<JobAttempt, "jobId">): Promise<DigestResult> {
    if (!mailer || !links) return "off";
    if (!(await preferencesOf(userId)).email) return "off";
    const user = await prisma.user.findUnique({ where: { id: userId }, select: { email: true, name: true } });
    if (!user?.email) return "no-address";
    const at = now();
    const unread = await prisma.conversation.findMany({
      where: {
        OR: [
          { participantSeeker: userId, unreadCountSeeker: { gt: 0 } },
          { participantProvider: userId, unreadCountProvider: { gt: 0 } },
        ],
      },
      orderBy: { lastMessageTimestamp: "desc" },
      take: DIGEST_CONVERSATIONS * 2,
      select: { id: true },
    });
    const entries: DigestEntry[] = [];
    for (const { id } of unread) {
      if (entries.length === DIGEST_CONVERSATIONS) break;
      if (await mutedUntil(userId, id, at)) continue;
      if (await viewing.isViewing(userId, id)) continue;
      const conversation = await conversations.get(id, userId);
      entries.push({
        from: conversation.otherParticipant.name ?? "Someone",
        unreadCount: conversation.unreadCount,
        lastMessage: conversation.lastMessage?.deleted ? "Message deleted" : (conversation.lastMessage?.content ?? ""),
        url: conversationUrl(id),
      });
    }
    if (entries.length === 0) return "nothing-unread";
    const unsubscribeUrl = links.url(userId, at);
    const rendered = renderDigest({
      recipientName: user.name,
      entries,
      settingsUrl: new URL("/#/settings", config.publicUrl).toString(),
      unsubscribeUrl,
    });
    const host = new URL(config.publicUrl).hostname || "naafe.local";
    await mailer.send({
      to: user.email,
      ...rendered,
      headers: { "List-Unsubscribe": `<${unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
      messageId: `<digest-${attempt?.jobId ?? `${userId}-${at.getTime()}`}@${host}>`,
    });
    return "sent";
  }

  /** The sweep of time slot `slot` has this job id, so however many processes enqueue it, it runs once. */
  function slotOf(at: Date) {
    return Math.floor(at.getTime() / config.sweepEveryMs);
  }

  async function enqueueSweep(slot: number) {
    await queue.enqueue(
      sweepJob,
      { slot },
      { id: uuidFrom(`notifications.sweep:${slot}`), startAfter: new Date(slot * config.sweepEveryMs) },
    );
  }

  return {
    sweep,
    push,
    digest,
    workers: [
      sweepJob.worker(
        async () => {
          try {
            await sweep();
          } finally {
            await enqueueSweep(slotOf(now()) + 1);
          }
        },
        { pollingIntervalSeconds: Math.max(0.5, config.sweepEveryMs / 2_000) },
      ),
      pushJob.worker(async (payload) => void (await push(payload)), { concurrency: 8, pollingIntervalSeconds: 1 }),
      digestJob.worker(async (payload, attempt) => void (await digest(payload, attempt)), { concurrency: 2 }),
    ],
    /** Starts the chain of sweeps (a no-op when another process already did). */
    start: () => enqueueSweep(slotOf(now()) + 1),
  };
}

export type Notifier = ReturnType<typeof createNotifier>;

/** A UUID (version 8 layout) derived from `name`: the same name, the same id. */
function uuidFrom(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex").slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
