import type { PrismaClient } from "@naafe/db";
import type { EventBus, Topic } from "../platform/bus/event-bus.ts";

/** A change that makes cached safety state stale, on every instance. */
export type SafetyEvent =
  | { kind: "block"; blockerId: string; blockedId: string }
  | { kind: "suspension"; userId: string }
  | { kind: "job"; conversationId: string };

export const safetyTopic: Topic<SafetyEvent> = { name: "moderation:changes" };

const MAX_ENTRIES = 100_000;

interface SafetyStateDeps {
  prisma: PrismaClient;
  bus: EventBus;
  onPublishError?: ((error: unknown) => void) | undefined;
}

/**
 * Who blocked whom, who is suspended until when, and each conversation's job status, cached per
 * process so that a send costs no extra database round trip: each value is read once, then
 * served from memory until a change (published on the bus, also by other instances) drops it.
 * When the bus may have lost events (Redis reconnected), everything is dropped.
 */
export function createSafetyState({ prisma, bus, onPublishError }: SafetyStateDeps) {
  const blocks = new Map<string, boolean>();
  const suspensions = new Map<string, number>();
  const jobStatuses = new Map<string, string>();
  // Bumped on every change: a read that started before it must not cache what it found.
  let generation = 0;

  const pairKey = (blockerId: string, blockedId: string) => `${blockerId}\u0000${blockedId}`;

  function forget(event: SafetyEvent) {
    generation++;
    if (event.kind === "block") blocks.delete(pairKey(event.blockerId, event.blockedId));
    else if (event.kind === "suspension") suspensions.delete(event.userId);
    else jobStatuses.delete(event.conversationId);
  }
  function forgetAll() {
    generation++;
    blocks.clear();
    suspensions.clear();
    jobStatuses.clear();
  }
  const subscription = bus.subscribe(safetyTopic, forget, forgetAll);

  async function cached<V>(map: Map<string, V>, key: string, load: () => Promise<V>): Promise<V> {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const started = generation;
    const value = await load();
    if (started === generation) {
      if (map.size >= MAX_ENTRIES) map.clear();
      map.set(key, value);
    }
    return value;
  }

  return {
    ready: subscription.ready,

    /** Whether `blockerId` has blocked `blockedId`. */
    isBlocked(blockerId: string, blockedId: string) {
      return cached(blocks, pairKey(blockerId, blockedId), async () => {
        const found = await prisma.block.findUnique({ where: { blockerId_blockedId: { blockerId, blockedId } } });
        return found !== null;
      });
    },

    /** Until when (ms since epoch) `userId` may not chat; 0 when not suspended. */
    suspendedUntil(userId: string) {
      return cached(suspensions, userId, async () => {
        const found = await prisma.suspension.findUnique({ where: { userId }, select: { until: true } });
        return found?.until.getTime() ?? 0;
      });
    },

    /** The job's status when it is cached, without a wait (the hot path's common case); else undefined. */
    knownJobStatus: (conversationId: string) => jobStatuses.get(conversationId),

    /** The status of the job a conversation belongs to (masking depends on it). */
    jobStatus(conversationId: string) {
      return cached(jobStatuses, conversationId, async () => {
        const found = await prisma.conversation.findUnique({
          where: { id: conversationId },
          select: { jobRequest: { select: { status: true } } },
        });
        return found?.jobRequest.status ?? "open";
      });
    },

    /** Drops the stale value here at once, and on the other instances through the bus. */
    changed(event: SafetyEvent) {
      forget(event);
      bus.publish(safetyTopic, event).catch((error: unknown) => onPublishError?.(error));
    },

    close() {
      subscription.unsubscribe();
    },
  };
}

export type SafetyState = ReturnType<typeof createSafetyState>;
