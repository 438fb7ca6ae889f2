import { randomUUID } from "node:crypto";
import { type PresenceEvent, type Publish, topics } from "./bus/event-bus.ts";

/**
 * Where presence is shared between server processes. Each process ("instance") records the
 * users it has connections for, with an expiry it renews while it lives; a user is online
 * while any instance's record is unexpired, so a process that dies takes its users offline
 * once its records expire.
 */
export interface PresenceStore {
  /** `userId` has connections on `instanceId` until `expiresAt`; true when that made them online. */
  join(userId: string, instanceId: string, now: number, expiresAt: number): Promise<boolean>;
  /** `instanceId` has no connection of `userId` left; true when that made them offline everywhere. */
  leave(userId: string, instanceId: string, now: number): Promise<boolean>;
  /** Users whose every record expired (their instances died), each reported once with when they were last seen. */
  sweep(now: number): Promise<{ userId: string; lastSeen: number }[]>;
  get(userId: string, now: number): Promise<{ online: boolean; lastSeen: number | null }>;
}

/** Presence of one process; nothing outlives it, so nothing needs to expire. */
export function createMemoryPresenceStore(): PresenceStore {
  /** Per user and instance: when the record was last renewed and when it expires. */
  const records = new Map<string, Map<string, { renewedAt: number; expiresAt: number }>>();
  const lastSeen = new Map<string, number>();

  function liveRecords(userId: string, now: number) {
    const mine = records.get(userId);
    if (!mine) return undefined;
    for (const [instanceId, { expiresAt }] of mine) if (expiresAt <= now) mine.delete(instanceId);
    return mine;
  }

  return {
    async join(userId, instanceId, now, expiresAt) {
      const mine = liveRecords(userId, now) ?? new Map();
      const wasOnline = mine.size > 0;
      mine.set(instanceId, { renewedAt: now, expiresAt });
      records.set(userId, mine);
      return !wasOnline;
    },
    async leave(userId, instanceId, now) {
      const mine = records.get(userId);
      if (!mine?.delete(instanceId)) return false;
      if ((liveRecords(userId, now)?.size ?? 0) > 0) return false;
      records.delete(userId);
      lastSeen.set(userId, now);
      return true;
    },
    async sweep(now) {
      const gone: { userId: string; lastSeen: number }[] = [];
      for (const [userId, mine] of records) {
        const held = [...mine.values()];
        if (held.some(({ expiresAt }) => expiresAt > now)) continue;
        // The last renewal is the last sign of life of a vanished instance.
        const seen = Math.max(...held.map(({ renewedAt }) => renewedAt));
        records.delete(userId);
        lastSeen.set(userId, seen);
        gone.push({ userId, lastSeen: seen });
      }
      return gone;
    },
    async get(userId, now) {
      const held = [...(records.get(userId)?.values() ?? [])];
      if (held.some(({ expiresAt }) => expiresAt > now)) return { online: true, lastSeen: null };
      // Records of a vanished instance linger until the sweep; their last renewal is the best guess.
      const seen = [lastSeen.get(userId) ?? -1, ...held.map(({ renewedAt }) => renewedAt)];
      const newest = Math.max(...seen);
      return { online: false, lastSeen: newest < 0 ? null : newest };
    },
  };
}

export interface PresenceOptions {
  /** How long an instance's record lasts without renewal: the bound on "offline" after a crash. */
  expireMs: number;
  /** How often a live instance renews its records and looks for expired ones. */
  heartbeatMs: number;
  /** How long a user with no connection left stays online, so a page reload does not flicker. */
  graceMs: number;
}

export const defaultPresenceOptions: PresenceOptions = { expireMs: 30_000, heartbeatMs: 10_000, graceMs: 2_000 };

/** Users renewed per turn of the event loop: all of ten thousand at once held it for 80 ms. */
const RENEW_PER_TURN = 100;

interface PresenceDeps {
  publish: Publish;
  store?: PresenceStore | undefined;
  options?: Partial<PresenceOptions> | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

export type PresenceService = ReturnType<typeof createPresenceService>;

/**
 * Who is online. The server reports each authenticated connection (`connect`, and the
 * returned function when it closes); several tabs or devices are one presence. Changes go
 * out on the bus as `PresenceEvent`s.
 */
export function createPresenceService({
  publish,
  store = createMemoryPresenceStore(),
  options,
  onError,
}: PresenceDeps) {
  const { expireMs, heartbeatMs, graceMs } = { ...defaultPresenceOptions, ...options };
  const instanceId = randomUUID();
  /** Open connections per user on this instance. */
  const connections = new Map<string, number>();
  const leaving = new Map<string, NodeJS.Timeout>();
  /** Store updates of one user run in order, so a quick leave and rejoin cannot swap. */
  const queues = new Map<string, Promise<void>>();

  function inOrder(userId: string, task: () => Promise<void>) {
    const next = (queues.get(userId) ?? Promise.resolve()).then(task).catch((error: unknown) => onError?.(error));
    queues.set(userId, next);
    next.then(() => {
      if (queues.get(userId) === next) queues.delete(userId);
    });
    return next;
  }

  function announce(event: PresenceEvent) {
    publish(topics.presence(event.userId), event);
  }

  function join(userId: string) {
    return inOrder(userId, async () => {
      const now = Date.now();
      if (await store.join(userId, instanceId, now, now + expireMs)) announce({ userId, online: true, lastSeen: null });
    });
  }

  function leave(userId: string, closedAt = Date.now()) {
    return inOrder(userId, async () => {
      if (await store.leave(userId, instanceId, closedAt)) {
        announce({ userId, online: false, lastSeen: new Date(closedAt) });
      }
    });
  }

  async function heartbeat() {
    const users = [...connections.keys()];
    for (let start = 0; start < users.length; start += RENEW_PER_TURN) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(users.slice(start, start + RENEW_PER_TURN).map(join));
    }
    for (const { userId, lastSeen } of await store.sweep(Date.now())) {
      announce({ userId, online: false, lastSeen: new Date(lastSeen) });
    }
  }

  const timer = setInterval(() => heartbeat().catch((error: unknown) => onError?.(error)), heartbeatMs);
  timer.unref();

  return {
    instanceId,
    expireMs,
    heartbeatMs,

    /** A connection of `userId` opened; call the returned function when it closes (once). */
    connect(userId: string): () => void {
      const count = connections.get(userId) ?? 0;
      connections.set(userId, count + 1);
      const pendingLeave = leaving.get(userId);
      if (pendingLeave) {
        clearTimeout(pendingLeave);
        leaving.delete(userId);
      } else if (count === 0) {
        void join(userId);
      }
      let closed = false;
      return () => {
        if (closed) return;
        closed = true;
        const left = (connections.get(userId) ?? 1) - 1;
        if (left > 0) return void connections.set(userId, left);
        connections.delete(userId);
        const closedAt = Date.now();
        const goOffline = () => {
          leaving.delete(userId);
          void leave(userId, closedAt);
        };
        if (graceMs <= 0) return goOffline();
        leaving.set(userId, setTimeout(goOffline, graceMs));
      };
    },

    async get(userId: string) {
      const { online, lastSeen } = await store.get(userId, Date.now());
      return { userId, online, lastSeen: lastSeen === null ? null : new Date(lastSeen) };
    },

    /** Renews this instance's records and reports crashed instances' users now, instead of on the next beat. */
    heartbeat,

    /** Stops renewing and takes this instance's users offline here (they reconnect elsewhere). */
    async close() {
      clearInterval(timer);
      for (const pending of leaving.values()) clearTimeout(pending);
      const users = new Set([...connections.keys(), ...leaving.keys()]);
      connections.clear();
      leaving.clear();
      await Promise.all([...users].map((userId) => leave(userId)));
    },
  };
}
