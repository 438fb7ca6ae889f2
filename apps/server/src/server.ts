import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  appRouter,
  bearerToken,
  createContext,
  createDiskStorage,
  createMailer,
  createMemoryBus,
  createMemoryRateLimiter,
  createMemoryViewing,
  createPusher,
  createRedisBus,
  createRedisPresenceStore,
  createRedisRateLimiter,
  createRedisViewing,
  createS3Storage,
  createServiceApi,
  createServices,
  createUnsubscribeLinks,
  DomainError,
  signingKeyFromPem,
  topics,
} from "@naafe/api";
import { openDatabase } from "@naafe/db";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { type Logger, pino } from "pino";
import { demoUsers, seedDemo } from "./demo.ts";
import type { Config } from "./env.ts";
import { handleExport } from "./export-route.ts";
import { clientAddress, createRequestHandler } from "./http.ts";
import { createDocsRoutes, createRestApi } from "./rest.ts";
import { handleUnsubscribe } from "./unsubscribe-route.ts";
import { handleUpload } from "./upload-route.ts";
import { startJobs } from "./workers.ts";
import { closeCodes, createAdmission } from "./ws/admission.ts";
import { createWebSocketTransport, MAX_FRAME_BYTES } from "./ws/transport.ts";

/** HTTP and WebSocket on one port: `/trpc`, `/api` (REST), `/docs`, `/healthz`, and the web app at `/`. */
export async function startServer(config: Config) {
  // Asynchronous writes: under overload every refused call logs, and synchronous log writes
  // blocked the event loop long enough to time out the database pool's own handshakes.
  const log = pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false }));
  const db = await openDatabase({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    lockTimeoutMs: config.databaseLockTimeoutMs,
    dataDir: join(config.dataDir, "pglite"),
  });
  const reportOutage = throttledWarning(log, "live events or receipts not written; clients catch up from the database");
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.presenceTimeoutMs, log) : null;
  const bus = redis?.bus ?? createMemoryBus();
  const storage = config.attachments.s3
    ? createS3Storage(config.attachments.s3)
    : createDiskStorage(config.attachments.directory);
  const jobs = await startJobs({ db, config, log, storage });
  // Links to attachments start with the public origin; until listening, that is not known.
  let publicUrl = config.publicUrl;
  const { push: pushConfig, email: emailConfig } = config.notifications;
  // Who views which conversation: shared through Redis, so the worker on any instance knows.
  const viewing = redis
    ? createRedisViewing({ url: redis.url, expireMs: config.presenceTimeoutMs, onError: redis.onError })
    : createMemoryViewing();
  const pusher = pushConfig ? createPusher(pushConfig) : null;
  const mailer = emailConfig ? createMailer(emailConfig) : null;
  const links = emailConfig ? createUnsubscribeLinks(emailConfig) : null;
  const services = createServices({
    db,
    bus,
    presenceStore: redis?.presenceStore,
    presence: { expireMs: config.presenceTimeoutMs, heartbeatMs: Math.floor(config.presenceTimeoutMs / 3) },
    auth: config.auth,
    sendLimit: config.sendLimit,
    typingLimit: config.typingLimit,
    writeLimit: config.writeLimit,
    readLimit: config.readLimit,
    signingKey: signingKeyFromPem(config.transcriptSigningKey),
    moderation: config.moderation,
    // One allowance per user across all instances when they share Redis.
    createLimiter: redis
      ? (name, limit, what) => createRedisRateLimiter(redis.url, name, limit, what, redis.onError)
      : undefined,
    demoUserIds: config.demo ? demoUsers.map((user) => user.id) : undefined,
    onBackgroundError: reportOutage,
    outbox: jobs.webhooks?.outbox,
    attachments: {
      storage,
      urlSecret: config.attachments.urlSecret,
      publicUrl: () => publicUrl,
      limits: config.attachments.limits,
      bindWindowMs: config.attachments.bindWindowMs,
    },
    notifications: { viewing, pusher, emailEnabled: mailer !== null },
  });
  await jobs.work(services);
  if (config.demo) await seedDemo(services);
  await jobs.startNotifications({ conversations: services.chat.conversations, viewing, pusher, mailer, links });

  const onError = (error: TRPCError, path: string | undefined) => {
    if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "procedure failed");
    else log.debug({ code: error.code, path, message: error.message }, "procedure refused");
  };

  const admission = createAdmission(config.limits);
  const addressOf = (req: IncomingMessage) => clientAddress(req, config.trustProxy);
  /**
   * The caller's context. An address that keeps presenting bad tokens gets its bad tokens
   * refused unchecked for a while; a valid token is never refused for others' failures.
   */
  function authenticate(address: string, token: string | null) {
    const ctx = createContext(services, token);
    if (ctx.authError) {
      if (admission.blocked(address)) {
        return { code: closeCodes.tooMany, reason: "Too many failed sign-ins; wait a minute." };
      }
      admission.authFailed(address);
    }
    if (ctx.user && admission.revoked(ctx.user)) {
      return {
        ...ctx,
        user: null,
        authError: new DomainError("UNAUTHORIZED", "This session was signed out; sign in again."),
      };
    }
    return ctx;
  }

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: MAX_FRAME_BYTES,
    maxBatchSize: config.limits.maxBatchSize,
    createContext: ({ req }) => {
      const ctx = authenticate(addressOf(req), bearerToken(req.headers.authorization));
      if ("code" in ctx) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: ctx.reason });
      return ctx;
    },
    onError: ({ error, path }) => onError(error, path),
  });
  const serviceLimit = { burst: 100, perSecond: 50 };
  const serviceLimiter = redis
    ? createRedisRateLimiter(redis.url, "service", serviceLimit, "calling the service API", redis.onError)
    : createMemoryRateLimiter(serviceLimit, "calling the service API");
  const service = createServiceApi({
    services,
    keys: config.serviceKeys,
    limiter: serviceLimiter,
    onError: (error) => log.error({ err: error }, "service call failed"),
  });
  const health = async (_req: IncomingMessage, res: ServerResponse) => {
    const database = (await db.ping()) ? "up" : "down";
    res.writeHead(database === "up" ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: database === "up" ? "ok" : "degraded", database, store: db.kind }));
  };
  const rest = createRestApi({
    maxBodySize: MAX_FRAME_BYTES,
    createContext: (req) => {
      const ctx = authenticate(addressOf(req), bearerToken(req.headers.authorization));
      if ("code" in ctx) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: ctx.reason });
      return ctx;
    },
    onError,
  });
  const exports = (req: IncomingMessage, res: ServerResponse) =>
    handleExport(req, res, {
      authenticate: (r) => {
        const ctx = authenticate(addressOf(r), bearerToken(r.headers.authorization));
        if ("code" in ctx) throw new DomainError("TOO_MANY_REQUESTS", ctx.reason);
        return ctx;
      },
      onError: (error) => log.error({ err: error }, "export failed"),
    });
  const uploads = (req: IncomingMessage, res: ServerResponse) =>
    handleUpload(req, res, {
      attachments: services.attachments,
      onError: (error) => log.error({ err: error }, "upload or download failed"),
    });
  const unsubscribe = links
    ? (req: IncomingMessage, res: ServerResponse) =>
        handleUnsubscribe(req, res, {
          links,
          unsubscribe: (userId) => services.notifications.unsubscribeEmail(userId),
          onError: (error) => log.error({ err: error }, "unsubscribe failed"),
        })
    : null;
  const server = createServer(
    createRequestHandler({
      trpc,
      health,
      exports,
      service,
      rest,
      docs: createDocsRoutes(),
      uploads,
      unsubscribe,
      corsOrigins: config.corsOrigins,
      webDist: config.webDist,
    }),
  );

  const transport = createWebSocketTransport({
    router: appRouter,
    services,
    limits: config.limits,
    admission,
    authenticate: (address, token) => {
      const ctx = authenticate(address, token);
      if ("code" in ctx) return ctx;
      return ctx.user
        ? ctx
        : { code: closeCodes.unauthorized, reason: ctx.authError?.message ?? "Sign in to use the chat." };
    },
    addressOf,
    onError,
  });
  server.on("upgrade", (req, socket, head) => {
    if ((req.url ?? "/").split("?")[0] !== "/trpc") return socket.destroy();
    transport.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host}:${port}`;
  publicUrl ??= url;
  const attachmentStorage = config.attachments.s3
    ? `s3://${config.attachments.s3.bucket}`
    : config.attachments.directory;
  log.info({ url, store: db.kind, attachments: attachmentStorage, demo: config.demo }, "Naafe Chat is listening");

  // Sign-outs reach every instance, so a user's connections close wherever they are.
  const revocations = bus.subscribe(topics.revocations, ({ userId }) => transport.revoke(userId));

  let closing: Promise<void> | undefined;
  /** Stops accepting, tells clients to reconnect, finishes acknowledged writes, then closes. */
  function close() {
    closing ??= (async () => {
      log.info("shutting down");
      server.close();
      transport.announceRestart();
      await services.writes.drain();
      await jobs.close();
      await transport.close();
      server.closeAllConnections();
      revocations.unsubscribe();
      await services.presence.close();
      await viewing.close();
      pusher?.close();
      mailer?.close();
      const limiters = [
        services.sendLimiter,
        services.typingLimiter,
        services.writeLimiter,
        services.readLimiter,
        services.searchLimiter,
        services.exportLimiter,
        serviceLimiter,
        services.moderation,
      ];
      await Promise.all(limiters.map((limiter) => limiter.close()));
      await bus.close();
      await redis?.presenceStore.close();
      await db.close();
      log.info("stopped");
      log.flush();
    })();
    return closing;
  }

  return {
    url,
    port,
    services,
    db,
    jobs,
    log,
    admission,
    /**
     * Signs a user out everywhere: closes their connections (on every instance) and refuses
     * tokens issued until now. Returns how many connections this instance closed.
     */
    revokeUser(userId: string) {
      bus
        .publish(topics.revocations, { userId })
        .catch((error: unknown) => log.warn({ err: error }, "revocation not shared"));
      return transport.revoke(userId);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The Redis bus and presence store for running several instances; start-up fails if Redis is unreachable. */
async function connectRedis(url: string, presenceTimeoutMs: number, log: Logger) {
  const onError = throttledWarning(log, "Redis unavailable; live events between instances pause, clients catch up");
  const [bus, presenceStore] = await Promise.all([
    createRedisBus({ url, onError }),
    createRedisPresenceStore({ url, expireMs: presenceTimeoutMs, onError }),
  ]);
  return { url, bus, presenceStore, onError };
}

/** One warning every few seconds at most: an outage fails every attempt, one line says enough. */
function throttledWarning(log: Logger, message: string) {
  let lastReport = 0;
  return (error: unknown) => {
    if (Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    log.warn({ err: error }, message);
  };
}

export type RunningServer = Awaited<ReturnType<typeof startServer>>;
