import { Redis } from "ioredis";
import { quitRedis } from "../platform/bus/redis-bus.ts";

/**
 * Who is looking at which conversation. A user is *viewing* a conversation while one of their
 * connections has a `chat.onMessage` subscription to it open and has not reported its page
 * hidden (`notifications.setVisible {visible: false}`). Nothing is pushed or emailed about a
 * conversation its receiver is viewing.
 */
export interface Viewing {
  /** A subscription to the conversation opened on this connection; call the result when it ends. */
  open(userId: string, connectionId: string, conversationId: string): () => void;
  /** The connection's page became visible or hidden. */
  setVisible(userId: string, connectionId: string, visible: boolean): void;
  /** The connection closed: it views nothing any more. */
  closed(userId: string, connectionId: string): void;
  isViewing(userId: string, conversationId: string): Promise<boolean>;
  close(): Promise<void>;
}

interface ConnectionState {
  hidden: boolean;
  /** Conversation → open subscriptions to it on this connection. */
  views: Map<string, number>;
}

/** What this process's connections view; `changed` is told after each change of a connection. */
function localConnections(changed: (userId: string, connectionId: string, state: ConnectionState | null) => void) {
  const users = new Map<string, Map<string, ConnectionState>>();

  function stateOf(userId: string, connectionId: string) {
    const connections = users.get(userId) ?? new Map<string, ConnectionState>();
    users.set(userId, connections);
    let state = connections.get(connectionId);
    if (!state) {
      state = { hidden: false, views: new Map() };
      connections.set(connectionId, state);
    }
    return state;
  }

  function forget(userId: string, connectionId: string) {
    const connections = users.get(userId);
    connections?.delete(connectionId);
    if (connections?.size === 0) users.delete(userId);
  }

  return {
    users,
    open(userId: string, connectionId: string, conversationId: string) {
      const state = stateOf(userId, connectionId);
      state.views.set(conversationId, (state.views.get(conversationId) ?? 0) + 1);
      changed(userId, connectionId, state);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        const current = users.get(userId)?.get(connectionId);
        if (!current) return;
        const left = (current.views.get(conversationId) ?? 1) - 1;
        if (left > 0) current.views.set(conversationId, left);
        else current.views.delete(conversationId);
        // A visible connection that views nothing needs no record; a hidden one keeps its flag.
        if (current.views.size === 0 && !current.hidden) {
          forget(userId, connectionId);
          changed(userId, connectionId, null);
        } else changed(userId, connectionId, current);
      };
    },
    setVisible(userId: string, connectionId: string, visible: boolean) {
      const state = stateOf(userId, connectionId);
      state.hidden = !visible;
      if (visible && state.views.size === 0) {
        forget(userId, connectionId);
        changed(userId, connectionId, null);
      } else changed(userId, connectionId, state);
    },
    closed(userId: string, connectionId: string) {
      if (!users.get(userId)?.has(connectionId)) return;
      forget(userId, connectionId);
      changed(userId, connectionId, null);
    },
  };
}

const views = (state: ConnectionState, conversationId: string) => !state.hidden && state.views.has(conversationId);

/** Viewing state of one process (a single instance). */
export function createMemoryViewing(): Viewing {
  const local = localConnections(() => {});
  return {
    open: local.open,
    setVisible: local.setVisible,
    closed: local.closed,
    async isViewing(userId, conversationId) {
      return [...(local.users.get(userId)?.values() ?? [])].some((state) => views(state, conversationId));
    },
    async close() {},
  };
}

export interface RedisViewingOptions {
  url: string;
  /** How long a record lasts unless its instance renews it (every third of this). */
  expireMs: number;
  prefix?: string;
  onError?: (error: unknown) => void;
  now?: () => number;
}

// Keys, under the prefix: viewing:<user>, a hash: connection id → JSON {hidden, conversations, expiresAt}.
// Each instance writes its own connections' records and renews them while it lives, so the
// records of an instance that died stop counting once they expire.

/** Viewing state shared by every instance through Redis. */
export function createRedisViewing({
  url,
  expireMs,
  prefix = "naafe:",
  onError = () => {},
  now = Date.now,
}: RedisViewingOptions): Viewing {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on("error", onError);
  const key = (userId: string) => `${prefix}viewing:${userId}`;

  function write(userId: string, connectionId: string, state: ConnectionState | null) {
    const written = state
      ? redis
          .multi()
          .hset(
            key(userId),
            connectionId,
            JSON.stringify({
              hidden: state.hidden,
              conversations: [...state.views.keys()],
              expiresAt: now() + expireMs,
            }),
          )
          .pexpire(key(userId), expireMs * 2)
          .exec()
      : redis.hdel(key(userId), connectionId);
    written.catch(onError);
  }

  const local = localConnections(write);
  const renew = setInterval(
    () => {
      for (const [userId, connections] of local.users) {
        for (const [connectionId, state] of connections) write(userId, connectionId, state);
      }
    },
    Math.max(1, Math.floor(expireMs / 3)),
  );
  renew.unref();

  return {
    open: local.open,
    setVisible: local.setVisible,
    closed: local.closed,
    async isViewing(userId, conversationId) {
      const records = await redis.hvals(key(userId));
      const at = now();
      return records.some((raw) => {
        const record = JSON.parse(raw) as { hidden: boolean; conversations: string[]; expiresAt: number };
        return record.expiresAt > at && !record.hidden && record.conversations.includes(conversationId);
      });
    },
    async close() {
      clearInterval(renew);
      for (const [userId, connections] of local.users) {
        for (const connectionId of connections.keys()) await redis.hdel(key(userId), connectionId).catch(onError);
      }
      await quitRedis(redis);
    },
  };
}
