import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";

/** Close codes a client can act on (4000–4999 are ours by RFC 6455). */
export const closeCodes = {
  /** Bad, missing, expired or revoked token: sign in again, don't retry as is. */
  unauthorized: 4401,
  /** Too many connections, subscriptions or failed sign-ins: back off. */
  tooMany: 4429,
  /** The client read too slowly; reconnect and catch up. */
  slowConsumer: 4408,
} as const;

export interface GuardLimits {
  /** Open WebSocket connections one user may hold (tabs and devices). */
  maxConnectionsPerUser: number;
  /** Subscriptions one connection may run at once. */
  maxSubscriptionsPerConnection: number;
  /** Bytes queued for a client before it counts as a slow consumer and is dropped. */
  maxBufferedBytes: number;
  /** Origins allowed to open WebSockets; empty means the server's own origin only. */
  allowedOrigins: string[];
  /** Failed sign-ins one IP may make per minute before it is refused for a while. */
  failedAuthPerMinute: number;
}

/**
 * The WebSocket limits that keep one client from hurting the others: origin check, caps on
 * connections and subscriptions, slow-consumer cut-off, per-IP failed-auth limit, revocation.
 */
export function createConnectionGuard(limits: GuardLimits, now = () => Date.now()) {
  const socketsByUser = new Map<string, Set<WebSocket>>();
  const revokedBefore = new Map<string, number>();
  const failures = new Map<string, number[]>();

  return {
    /** Same-origin by default: a page elsewhere must not ride on a user's cookies or tokens. */
    originAllowed(req: IncomingMessage): boolean {
      const origin = req.headers.origin;
      if (!origin) return true; // not a browser: no ambient credentials to abuse
      if (limits.allowedOrigins.includes(origin)) return true;
      try {
        return new URL(origin).host === req.headers.host;
      } catch {
        return false;
      }
    },

    /** Whether `ip` has failed to sign in too often in the last minute. */
    blocked(ip: string): boolean {
      return recentFailures(ip).length >= limits.failedAuthPerMinute;
    },

    authFailed(ip: string) {
      const recent = recentFailures(ip);
      recent.push(now());
      failures.set(ip, recent);
    },

    /** Whether the user was signed out after this token was issued. */
    revoked(user: { id: string; issuedAt: number | null }): boolean {
      const revokedAt = revokedBefore.get(user.id);
      return revokedAt !== undefined && (user.issuedAt ?? 0) <= revokedAt;
    },

    /** Why this user's new connection is refused, or null to admit it (and track it until it closes). */
    admit(socket: WebSocket, user: { id: string }): { code: number; reason: string } | null {
      const sockets = socketsByUser.get(user.id) ?? new Set<WebSocket>();
      if (sockets.size >= limits.maxConnectionsPerUser) {
        return { code: closeCodes.tooMany, reason: "Too many open connections for this user; close a tab." };
      }
      sockets.add(socket);
      socketsByUser.set(user.id, sockets);
      socket.once("close", () => {
        sockets.delete(socket);
        if (sockets.size === 0) socketsByUser.delete(user.id);
      });
      watchSubscriptions(socket);
      watchBuffer(socket);
      return null;
    },

    /** Closes the user's connections and refuses tokens issued until now. Returns how many closed. */
    revoke(userId: string): number {
      revokedBefore.set(userId, Math.floor(now() / 1000));
      const sockets = [...(socketsByUser.get(userId) ?? [])];
      for (const socket of sockets) socket.close(closeCodes.unauthorized, "This session was signed out.");
      return sockets.length;
    },

    connectionsOf(userId: string): number {
      return socketsByUser.get(userId)?.size ?? 0;
    },
  };

  function recentFailures(ip: string): number[] {
    const since = now() - 60_000;
    const recent = (failures.get(ip) ?? []).filter((at) => at > since);
    if (recent.length === 0) failures.delete(ip);
    return recent;
  }

  /** Counts the client's running subscriptions from tRPC's messages; over the cap, the connection goes. */
  function watchSubscriptions(socket: WebSocket) {
    const running = new Set<string | number>();
    socket.on("message", (data) => {
      const text = String(data);
      // Only subscription frames change the count; sends, the bulk of the traffic, skip a second parse.
      if (!text.includes('"subscription')) return;
      for (const message of parseMessages(text)) {
        if (message.method === "subscription") running.add(message.id);
        else if (message.method === "subscription.stop") running.delete(message.id);
      }
      if (running.size > limits.maxSubscriptionsPerConnection) {
        socket.close(closeCodes.tooMany, "Too many subscriptions on one connection.");
      }
    });
    // The server ends subscriptions too (errors, completion): forget them when it says so.
    const send = socket.send.bind(socket);
    socket.send = ((payload: unknown, ...rest: unknown[]) => {
      if (typeof payload === "string" && payload.includes('"stopped"')) {
        for (const message of parseMessages(payload)) {
          if (message.result?.type === "stopped") running.delete(message.id);
        }
      }
      return (send as (...args: unknown[]) => void)(payload, ...rest);
    }) as typeof socket.send;
  }

  /** A client that stops reading must not grow the server's memory: drop it; it catches up on reconnect. */
  function watchBuffer(socket: WebSocket) {
    const send = socket.send.bind(socket);
    socket.send = ((...args: unknown[]) => {
      if (socket.bufferedAmount > limits.maxBufferedBytes) {
        socket.close(closeCodes.slowConsumer, "Reading too slowly; reconnect to catch up.");
        // A peer that does not read will not read our close frame either.
        setTimeout(() => socket.terminate(), 1_000).unref();
        return;
      }
      return (send as (...a: unknown[]) => void)(...args);
    }) as typeof socket.send;
  }
}

interface TrpcMessage {
  id: string | number;
  method?: string;
  result?: { type?: string };
}

function parseMessages(text: string): TrpcMessage[] {
  try {
    const parsed: unknown = JSON.parse(text);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.filter((item): item is TrpcMessage => typeof item === "object" && item !== null && "id" in item);
  } catch {
    return [];
  }
}

export type ConnectionGuard = ReturnType<typeof createConnectionGuard>;
