import { type ErrorInfo, errorInfo } from "../../describe-error.ts";
import { isQuotaExceeded, type OutboxStorage, type PendingMessage } from "./outbox-storage.ts";

export type { PendingMessage } from "./outbox-storage.ts";

/** Why unsent messages may not survive a reload: storage unavailable, or the device's storage full. */
export type OutboxNotice = "volatile" | "quota" | null;

/** Runs `task` while no other holder of `name` (another tab included) runs one. */
export type Lock = (name: string, task: () => Promise<void>) => Promise<void>;

/** The part of BroadcastChannel the outbox uses, to tell the other tabs that the stored list changed. */
export interface TabChannel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface OutboxOptions<Sent> {
  userId: string;
  storage: OutboxStorage;
  send: (item: PendingMessage) => Promise<Sent>;
  lock?: Lock;
  channel?: TabChannel | null;
  isOnline?: () => boolean;
  now?: () => number;
}

/** Worth sending again by itself: no answer, or the server failed; a refusal needs the person. */
export function isTransient(error: ErrorInfo | null) {
  return error?.code === undefined || error.code === "INTERNAL_SERVER_ERROR" || error.code === "SERVICE_UNAVAILABLE";
}

/** Web Locks where the browser has them (all current ones), else one lock per page. */
export function browserLock(): Lock {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  if (locks)
    return async (name, task) => {
      await locks.request(name, task);
    };
  let tail = Promise.resolve();
  return (_name, task) => {
    const run = tail.then(task);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * Messages on their way, kept in IndexedDB until the server has stored them, so a reload, a
 * closed tab or a dead network loses nothing. They go out one at a time in the order written,
 * under a lock shared by this person's tabs, and each is checked to be still unsent right before
 * sending: two tabs never both send one (and if a tab dies mid-send, the other's retry carries
 * the same clientMessageId, which the server stores once).
 */
export function createOutbox<Sent>(options: OutboxOptions<Sent>) {
  const { userId, storage, send, channel = null } = options;
  const lock = options.lock ?? browserLock();
  const isOnline = options.isOnline ?? (() => navigator.onLine);
  const now = options.now ?? Date.now;
  const lockName = `naafe-outbox:${userId}`;

  let items: readonly PendingMessage[] = [];
  let notice: OutboxNotice = storage.durable ? null : "volatile";
  /** Ids whose write to storage is under way or failed: only this tab's memory has them. */
  const memoryOnly = new Set<string>();
  const listeners = new Set<() => void>();
  const sentListeners = new Set<(item: PendingMessage, sent: Sent) => void>();
  let flushing: Promise<void> | null = null;
  let again = false;
  let disposed = false;

  const set = (next: readonly PendingMessage[]) => {
    items = next;
    for (const listener of listeners) listener();
  };
  const patch = (id: string, change: Partial<PendingMessage>) =>
    set(items.map((item) => (item.clientMessageId === id ? { ...item, ...change } : item)));
  const drop = (id: string) => set(items.filter((item) => item.clientMessageId !== id));
  const announce = () => channel?.postMessage({ userId });

  async function persist(item: PendingMessage) {
    memoryOnly.add(item.clientMessageId);
    try {
      await storage.put(item);
      memoryOnly.delete(item.clientMessageId);
      if (notice === "quota") notice = null;
      announce();
    } catch (error) {
      // Still sent from memory; only a reload before then would lose it, and the person is told.
      if (isQuotaExceeded(error)) notice = "quota";
      else if (notice === null) notice = "volatile";
    }
    set(items);
  }

  /** The stored list (other tabs write it too), plus what only this tab holds. */
  async function refresh() {
    const stored = await storage.list(userId);
    const storedIds = new Set(stored.map((item) => item.clientMessageId));
    const mine = new Map(items.map((item) => [item.clientMessageId, item]));
    const merged = [
      // This tab's view of an item wins: it knows which one it is sending.
      ...stored.map((item) => mine.get(item.clientMessageId) ?? item),
      ...items.filter((item) => memoryOnly.has(item.clientMessageId) && !storedIds.has(item.clientMessageId)),
    ].sort((a, b) => a.createdAt - b.createdAt);
    set(merged);
  }

  async function drain() {
    await refresh();
    for (;;) {
      if (disposed || !isOnline()) return;
      const next = items.find(
        (item) => item.status === "queued" || (item.status === "failed" && isTransient(item.error)),
      );
      if (!next) return;
      const id = next.clientMessageId;
      if (!memoryOnly.has(id) && !(await storage.get(id))) {
        drop(id); // Another tab sent it while this one waited for the lock.
        continue;
      }
      patch(id, { status: "sending", error: null });
      try {
        const sent = await send(next);
        for (const listener of sentListeners) listener(next, sent);
        await storage.delete(id).catch(() => {});
        memoryOnly.delete(id);
        drop(id);
        announce();
      } catch (cause) {
        const error = errorInfo(cause);
        const failed = { ...next, status: isOnline() ? "failed" : "queued", error } as const;
        patch(id, failed);
        if (!memoryOnly.has(id)) await storage.put(failed).catch(() => {});
        announce();
        // Later messages wait behind one that may still go through, so the order holds.
        if (isTransient(error)) return;
      }
    }
  }

  function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      do {
        again = false;
        await lock(lockName, drain);
      } while (again && !disposed);
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  channel?.addEventListener("message", (event: MessageEvent) => {
    if ((event.data as { userId?: unknown } | null)?.userId === userId) void refresh();
  });

  return {
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    getSnapshot: () => items,
    getNotice: () => notice,
    durable: storage.durable,
    /** Reads what earlier pages and other tabs left unsent, and sends it. */
    start: () => flush(),
    flush,
    add(conversationId: string, content: string): PendingMessage {
      const item: PendingMessage = {
        clientMessageId: crypto.randomUUID(),
        userId,
        conversationId,
        content,
        createdAt: Math.max(now(), (items.at(-1)?.createdAt ?? 0) + 1),
        status: "queued",
        error: null,
      };
      set([...items, item]);
      void persist(item).then(flush);
      return item;
    },
    retry(id: string) {
      patch(id, { status: "queued", error: null });
      void flush();
    },
    async discard(id: string) {
      drop(id);
      memoryOnly.delete(id);
      await storage.delete(id).catch(() => {});
      announce();
    },
    /** The server's live feed brought this message back: it is stored, whoever sent it. */
    acknowledge(id: string) {
      if (!items.some((item) => item.clientMessageId === id)) return;
      drop(id);
      memoryOnly.delete(id);
      void storage.delete(id).catch(() => {});
    },
    /** Called with each message the server confirmed, before it leaves the outbox. */
    onSent(listener: (item: PendingMessage, sent: Sent) => void) {
      sentListeners.add(listener);
      return () => void sentListeners.delete(listener);
    },
    dispose() {
      disposed = true;
      channel?.close();
    },
  };
}

export type Outbox<Sent = unknown> = ReturnType<typeof createOutbox<Sent>>;
