import { existsSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  appRouter,
  bearerToken,
  createContext,
  createMemoryBus,
  createRedisBus,
  createRedisPresenceStore,
  createServices,
} from "@naafe/api";
import { openDatabase } from "@naafe/db";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { type Logger, pino } from "pino";
import sirv from "sirv";
import { type WebSocket, WebSocketServer } from "ws";
import { demoUsers, seedDemo } from "./demo.ts";
import type { Config } from "./env.ts";

/** Close code for a connection refused for its token: clients must not retry it as is. */
export const UNAUTHORIZED_CLOSE = 4401;
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
  const log = pino({ level: config.logLevel });
  const db = await openDatabase({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: join(config.dataDir, "pglite"),
  });
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.presenceTimeoutMs, log) : null;
  const bus = redis?.bus ?? createMemoryBus();
  const services = createServices({
    prisma: db.prisma,
    bus,
    presenceStore: redis?.presenceStore,
    presence: { expireMs: config.presenceTimeoutMs, heartbeatMs: Math.floor(config.presenceTimeoutMs / 3) },
    auth: config.auth,
    demoUserIds: config.demo ? demoUsers.map((user) => user.id) : undefined,
    onPublishError: (error) => log.warn({ err: error }, "live event not published; clients catch up on reconnect"),
  });
  if (config.demo) await seedDemo(services);

  const onError = ({ error, path }: { error: TRPCError; path: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "procedure failed");
    else log.debug({ code: error.code, path, message: error.message }, "procedure refused");
  };

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_PAYLOAD,
    createContext: ({ req }) => createContext(services, bearerToken(req.headers.authorization)),
    onError,
  });
  const web = existsSync(config.webDist)
    ? sirv(config.webDist, { single: true, etag: true, setHeaders: (res) => setHeaders(res, securityHeaders) })
    : null;

  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/trpc" || path.startsWith("/trpc/")) return trpcHandler(req, res);
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
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  const expiryTimers = new WeakMap<WebSocket, NodeJS.Timeout>();
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    createContext({ req, res: socket, info }) {
      const token = bearerToken(req.headers.authorization) ?? tokenFrom(info.connectionParams);
      const ctx = createContext(services, token);
      if (!ctx.user) {
        // Closed before any procedure runs, with a code the client can tell from a network fault.
        const reason = ctx.authError?.message ?? "Sign in to use the chat.";
        socket.close(UNAUTHORIZED_CLOSE, reason);
        throw new TRPCError({ code: "UNAUTHORIZED", message: reason });
      }
      const remaining = ctx.user.expiresAt - Date.now();
      const timer = setTimeout(
        () => socket.close(UNAUTHORIZED_CLOSE, "Your session has expired; sign in again."),
        remaining,
      );
      expiryTimers.set(socket, timer);
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
      await services.presence.close();
      await bus.close();
      await redis?.presenceStore.close();
      await db.close();
      log.info("stopped");
    })();
    return closing;
  }

  return { url, port, services, db, log, close, [Symbol.asyncDispose]: close };
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
  return { bus, presenceStore };
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
