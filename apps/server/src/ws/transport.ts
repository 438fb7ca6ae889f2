import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type AppRouter, type Context, DomainError, type Services } from "@naafe/api";
import { type WebSocket, WebSocketServer } from "ws";
import { type Admission, closeCodes } from "./admission.ts";
import { type ConnectionLimits, type ReportError, serveConnection } from "./connection.ts";

// A 2,000-character message is at most 8 KB of UTF-8; the rest is envelope and headroom.
export const MAX_FRAME_BYTES = 64 * 1024;
/** setTimeout's longest delay; a later expiry is checked again when it runs out. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TransportOptions {
  router: AppRouter;
  services: Services;
  limits: ConnectionLimits;
  admission: Admission;
  /** The caller's context for a token presented from `address`, or why it is refused. */
  authenticate: (address: string, token: string | null) => Context | { code: number; reason: string };
  addressOf: (req: IncomingMessage) => string;
  onError: ReportError;
}

/**
 * The one WebSocket transport: the home of every rule about a client's connection. Origin
 * check, caps (per user, per address, unauthenticated, subscriptions), sign-in deadline, token
 * expiry and sign-out, slow-consumer cut-off, write coalescing and keep-alive, and the close
 * codes 4401, 4408, 4429 and 1012 a client acts on.
 */
export function createWebSocketTransport(options: TransportOptions) {
  const { router, services, limits, admission, authenticate, addressOf, onError } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const socketsByUser = new Map<string, Set<WebSocket>>();
  const sweeper = setInterval(() => admission.sweep(), 60_000).unref();

  function refuseUpgrade(socket: Duplex, status: string) {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    if (!admission.originAllowed(req)) return refuseUpgrade(socket, "403 Forbidden");
    const address = addressOf(req);
    const slot = admission.open(address);
    if (typeof slot === "string") return refuseUpgrade(socket, "429 Too Many Requests");
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once("close", () => slot.release());
      serveConnection(
        ws,
        socket,
        req,
        { router, limits, onError, signIn: (token) => authenticate(address, token) },
        (ctx) => {
          const refusal = admission.signIn(ctx.user.id);
          if (typeof refusal === "string") {
            ws.close(closeCodes.tooMany, refusal);
            return () => {};
          }
          slot.signedIn();
          const sockets = socketsByUser.get(ctx.user.id) ?? new Set();
          sockets.add(ws);
          socketsByUser.set(ctx.user.id, sockets);
          const expire = () => ws.close(closeCodes.unauthorized, "Your session has expired; sign in again.");
          let expiry = closeAt(ctx.user.expiresAt, expire);
          ctx.renewSession = (token) => {
            const renewed = authenticate(address, token);
            const user = "code" in renewed ? null : renewed.user;
            if (!user) {
              const tooMany = "code" in renewed && renewed.code === closeCodes.tooMany;
              const reason = "code" in renewed ? renewed.reason : "That token is not valid.";
              throw new DomainError(tooMany ? "TOO_MANY_REQUESTS" : "UNAUTHORIZED", reason);
            }
            if (user.id !== ctx.user.id) {
              throw new DomainError("FORBIDDEN", "A connection can only be renewed with a token of the same user.");
            }
            ctx.user = user;
            expiry.cancel();
            expiry = closeAt(user.expiresAt, expire);
            return user;
          };
          // Every open socket of a user, on any instance, keeps them online.
          const offline = services.presence.connect(ctx.user.id);
          // Remembers the token's email for digests; forgets what the connection viewed when it closes.
          const disconnected = services.notifications.connected(ctx.user, ctx.connectionId);
          return () => {
            refusal();
            expiry.cancel();
            offline();
            disconnected();
            sockets.delete(ws);
            if (sockets.size === 0) socketsByUser.delete(ctx.user.id);
          };
        },
      );
    });
  }

  return {
    handleUpgrade,

    /** Closes the user's connections and refuses their tokens issued until now. Returns how many closed. */
    revoke(userId: string): number {
      admission.revoke(userId);
      const sockets = [...(socketsByUser.get(userId) ?? [])];
      for (const ws of sockets) ws.close(closeCodes.unauthorized, "This session was signed out.");
      return sockets.length;
    },

    /** Tells every client the server is going away: reconnect (elsewhere) and catch up. */
    announceRestart() {
      const reconnect = JSON.stringify({ id: null, method: "reconnect" });
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(reconnect);
    },

    async close() {
      clearInterval(sweeper);
      for (const ws of wss.clients) ws.close(closeCodes.restart, "Server restarting");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type WebSocketTransport = ReturnType<typeof createWebSocketTransport>;

/** Runs `expire` at `at` (epoch ms), however far away: long waits are re-armed in steps. */
export function closeAt(at: number, expire: () => void, now = () => Date.now()) {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const remaining = at - now();
    if (remaining <= 0) return expire();
    timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
