import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import {
  appRouter,
  bearerToken,
  createContext,
  createMemoryBus,
  createRedisBus,
  createRedisPresenceStore,
  createRedisRateLimiter,
  createServices,
  DomainError,
  topics,
} from "@naafe/api";
import { openDatabase } from "@naafe/db";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { type Logger, pino } from "pino";
import sirv from "sirv";
import { WebSocketServer } from "ws";
import { closeCodes, createConnectionGuard } from "./connection-guard.ts";
import { writePerTick } from "./cork.ts";
import { demoUsers, seedDemo } from "./demo.ts";
import type { Config } from "./env.ts";

/** Close code for a connection refused for its token: clients must not retry it as is. */
export const UNAUTHORIZED_CLOSE = closeCodes.unauthorized;
/** Close code "service restart" (RFC 6455): reconnect and catch up. */
const RESTART_CLOSE = 1012;

// A 2,000-character message is at most 8 KB of UTF-8; the rest is envelope and headroom.
const MAX_PAYLOAD = 64 * 1024;

const securityHeaders = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** HTTP and WebSocket on one port: `/trpc`, `/healthz`, and the web app at `/`. */
export async function startServer(config: Config) {
  // V8's allocation-site pretenuring (a site whose objects mostly survived a young collection
  // allocates straight into the old generation) cost this server more than it saved: without
  // it, in the benchmark's steady load, young collections took 6.2 instead of 8.5 ms (median)
  // and a message 5 % less CPU. See docs/performance.md.
  setFlagsFromString("--no-allocation-site-pretenuring");
  // Asynchronous writes: under overload every refused call logs, and synchronous log writes
  // blocked the event loop long enough to time out the database pool's own handshakes.
  const log = pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));
  const db = await openDatabase({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: join(config.dataDir, "pglite"),
  });
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.presenceTimeoutMs, log) : null;
  const bus = redis?.bus ?? createMemoryBus();
  const services = createServices({
    db,
    bus,
    presenceStore: redis?.presenceStore,
    presence: { expireMs: config.presenceTimeoutMs, heartbeatMs: Math.floor(config.presenceTimeoutMs / 3) },
    auth: config.auth,
    sendLimit: config.sendLimit,
    typingLimit: config.typingLimit,
    // One allowance per user across all instances when they share Redis.
    createLimiter: redis
      ? (name, limit, what) => createRedisRateLimiter(redis.url, name, limit, what, redis.onError)
      : undefined,
    demoUserIds: config.demo ? demoUsers.map((user) => user.id) : undefined,
    onPublishError: (error) => log.warn({ err: error }, "live event not published; clients catch up on reconnect"),
  });
  if (config.demo) await seedDemo(services);

  const onError = ({ error, path }: { error: TRPCError; path: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "procedure failed");
    else log.debug({ code: error.code, path, message: error.message }, "procedure refused");
  };

  const guard = createConnectionGuard(config.limits);
  /** The caller's context; repeated bad tokens from one address are refused for a while. */
  function authenticate(ip: string, token: string | null) {
    if (guard.blocked(ip)) {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: "Too many failed sign-ins; wait a minute." });
    }
    const ctx = createContext(services, token);
    if (ctx.authError) guard.authFailed(ip);
    if (ctx.user && guard.revoked(ctx.user)) {
      return {
        ...ctx,
        user: null,
        authError: new DomainError("UNAUTHORIZED", "This session was signed out; sign in again."),
      };
    }
    return ctx;
  }

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_PAYLOAD,
    createContext: ({ req }) => authenticate(addressOf(req), bearerToken(req.headers.authorization)),
    onError,
  });
  const web = existsSync(config.webDist)
    ? sirv(config.webDist, { single: true, etag: true, setHeaders: (res) => setHeaders(res, securityHeaders) })
    : null;

  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/trpc" || path.startsWith("/trpc/")) {
      if (allowCors(req, res, config.corsOrigins)) return;
      return trpcHandler(req, res);
    }
    if (path === "/healthz") return health(res);
    if (web) return web(req, res, () => notFound(res));
    setHeaders(res, securityHeaders);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end(
      "Naafe Chat API is running at /trpc. Build the web app (pnpm --filter @naafe/web build) to serve it here.\n",
    );
  });

  async function health(res: ServerResponse) {
    const database = (await db.ping()) ? "up" : "down";
    res.writeHead(database === "up" ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: database === "up" ? "ok" : "degraded", database, store: db.kind }));
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/trpc") return socket.destroy();
    if (!guard.originAllowed(req)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      writePerTick(ws, socket);
      wss.emit("connection", ws, req);
    });
  });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    createContext({ req, res: socket, info }) {
      const token = bearerToken(req.headers.authorization) ?? tokenFrom(info.connectionParams);
      // Refusals close the socket before any procedure runs, with a code the client can tell
      // from a network fault (and so does not retry in a tight loop).
      const refuse = (code: number, reason: string) => {
        socket.close(code, reason);
        return new TRPCError({
          code: code === UNAUTHORIZED_CLOSE ? "UNAUTHORIZED" : "TOO_MANY_REQUESTS",
          message: reason,
        });
      };
      let ctx: ReturnType<typeof authenticate>;
      try {
        ctx = authenticate(addressOf(req), token);
      } catch (error) {
        throw refuse(closeCodes.tooMany, error instanceof Error ? error.message : "Refused.");
      }
      if (!ctx.user) throw refuse(UNAUTHORIZED_CLOSE, ctx.authError?.message ?? "Sign in to use the chat.");
      const refusal = guard.admit(socket, ctx.user);
      if (refusal) throw refuse(refusal.code, refusal.reason);
      const remaining = ctx.user.expiresAt - Date.now();
      const timer = setTimeout(
        () => socket.close(UNAUTHORIZED_CLOSE, "Your session has expired; sign in again."),
        remaining,
      );
      socket.once("close", () => clearTimeout(timer));
      // Every open socket of a user, on any instance, keeps them online.
      socket.once("close", services.presence.connect(ctx.user.id));
      return ctx;
    },
    onError,
  });

  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host}:${port}`;
  log.info({ url, store: db.kind, demo: config.demo }, "Naafe Chat is listening");

  let closing: Promise<void> | undefined;
  /** Stops accepting, tells clients to reconnect, finishes acknowledged writes, then closes. */
  function close() {
    closing ??= (async () => {
      log.info("shutting down");
      server.close();
      wsHandler.broadcastReconnectNotification();
      await services.writes.drain();
      for (const client of wss.clients) client.close(RESTART_CLOSE, "Server restarting");
      server.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      revocations.unsubscribe();
      await services.presence.close();
      await Promise.all([services.sendLimiter.close(), services.typingLimiter.close()]);
      await bus.close();
      await redis?.presenceStore.close();
      await db.close();
      log.info("stopped");
      log.flush();
    })();
    return closing;
  }

  // Sign-outs reach every instance, so a user's connections close wherever they are.
  const revocations = bus.subscribe(topics.revocations, ({ userId }) => guard.revoke(userId));

  /**
   * Signs a user out everywhere: closes their connections (on every instance) and refuses
   * tokens issued until now. Returns how many connections this instance closed.
   */
  function revokeUser(userId: string) {
    bus
      .publish(topics.revocations, { userId })
      .catch((error: unknown) => log.warn({ err: error }, "revocation not shared"));
    return guard.revoke(userId);
  }

  return { url, port, services, db, log, guard, revokeUser, close, [Symbol.asyncDispose]: close };
}

/** The Redis bus and presence store for running several instances; start-up fails if Redis is unreachable. */
async function connectRedis(url: string, presenceTimeoutMs: number, log: Logger) {
  let lastReport = 0;
  // A Redis outage fails every reconnect attempt; one line every few seconds says enough.
  const onError = (error: unknown) => {
    if (Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    log.warn({ err: error }, "Redis unavailable; live events between instances pause, clients catch up");
  };
  const [bus, presenceStore] = await Promise.all([
    createRedisBus({ url, onError }),
    createRedisPresenceStore({ url, expireMs: presenceTimeoutMs, onError }),
  ]);
  return { url, bus, presenceStore, onError };
}

function addressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

/** CORS only for configured origins; answers preflights itself. Returns whether the request is done. */
function allowCors(req: IncomingMessage, res: ServerResponse, origins: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  if (req.method !== "OPTIONS") return false;
  res.writeHead(204, {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "authorization, content-type, trpc-accept",
    "Access-Control-Max-Age": "600",
  });
  res.end();
  return true;
}

function tokenFrom(params: Record<string, string | undefined> | null | undefined): string | null {
  const token = params?.["token"];
  return typeof token === "string" && token ? token : null;
}

function setHeaders(res: ServerResponse, headers: Record<string, string>) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

function notFound(res: ServerResponse) {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("Not found\n");
}

export type RunningServer = Awaited<ReturnType<typeof startServer>>;
