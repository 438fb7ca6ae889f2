import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateVapidKeys, serviceKeySchema, webhookUrlProblem } from "@naafe/api";
import { z } from "zod";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const optional = z
  .string()
  .trim()
  .transform((value) => value || undefined)
  .optional();

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => (value === undefined || value === "" ? undefined : value === "true" || value === "1"));

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const count = (fallback: number) => z.coerce.number().int().min(1, "must be a positive whole number").default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: optional.pipe(z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgresql:// URL" }).optional()),
  /** A PostgreSQL schema other than the connection's default (created if missing). */
  DATABASE_SCHEMA: optional.pipe(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case SQL identifier")
      .optional(),
  ),
  DATA_DIR: z.string().default(join(repoRoot, ".data")),
  JWT_SECRET: optional.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  JWT_PUBLIC_KEY: optional.pipe(
    z.string().includes("BEGIN PUBLIC KEY", { error: "must be a PEM public key" }).optional(),
  ),
  /** Ed25519 private key (PKCS#8 PEM) that signs exported transcripts. */
  TRANSCRIPT_SIGNING_KEY: optional.pipe(
    z
      .string()
      // A PEM in one line of an env file, with its line breaks written as \n.
      .transform((pem) => pem.replaceAll("\\n", "\n"))
      .refine(isEd25519PrivateKey, { error: "must be an Ed25519 private key in PEM (BEGIN PRIVATE KEY)" })
      .optional(),
  ),
  JWT_ISSUER: optional,
  JWT_AUDIENCE: optional,
  /** How long a batch of sends waits for a conversation row another transaction holds (PostgreSQL). */
  DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  REDIS_URL: optional.pipe(z.url({ protocol: /^rediss?$/, error: "must be a redis:// URL" }).optional()),
  /** How soon the users of a server process that died show as offline (the process renews every third of it). */
  PRESENCE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Origins (besides the server's own) whose pages may open WebSockets, comma-separated. */
  ALLOWED_ORIGINS: list,
  /** Origins allowed to call /trpc over HTTP from another site (CORS); none by default. */
  CORS_ORIGINS: list,
  SEND_BURST: count(30),
  SEND_PER_SECOND: count(10),
  TYPING_BURST: count(20),
  TYPING_PER_SECOND: count(2),
  WRITE_BURST: count(30),
  WRITE_PER_SECOND: count(5),
  READ_BURST: count(120),
  READ_PER_SECOND: count(40),
  MAX_CONNECTIONS_PER_USER: count(20),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: count(100),
  /** Bytes queued for one client before it is dropped as a slow consumer. */
  WS_MAX_BUFFERED_BYTES: count(1024 * 1024),
  FAILED_AUTH_PER_MINUTE: count(30),
  /** Open WebSockets from one client address (see TRUST_PROXY), signed in or not. */
  MAX_CONNECTIONS_PER_ADDRESS: count(256),
  /** WebSockets that have not signed in yet, from everyone together. */
  MAX_UNAUTHENTICATED_CONNECTIONS: count(1_000),
  /** How long a WebSocket may stay open without a valid token. */
  WS_AUTH_TIMEOUT_MS: count(10_000),
  /** How long a client may leave its queue unread before it is dropped as a slow consumer. */
  WS_DRAIN_TIMEOUT_MS: count(30_000),
  /** Calls in one HTTP batch or WebSocket frame. */
  MAX_BATCH_SIZE: count(16),
  /** Behind a load balancer: take the client's address from the last X-Forwarded-For hop. */
  TRUST_PROXY: flag,
  /** When contact details in messages are masked for their receiver. */
  CONTACT_MASKING: z.enum(["always", "until-completed", "never"]).default("until-completed"),
  /** How long after sending a message its sender may edit or delete it. */
  MESSAGE_EDIT_WINDOW_MINUTES: z.coerce.number().int().min(0).max(10_080).default(15),
  /** How long after its job is completed or cancelled a conversation becomes read-only. */
  CONVERSATION_CLOSE_GRACE_HOURS: z.coerce.number().min(0).max(8_760).default(24),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DEMO: flag,
  WEB_DIST: z.string().default(join(repoRoot, "apps/web/dist")),
  /** Keys the marketplace backend calls `/service/*` with, comma-separated (two during a rotation). */
  SERVICE_KEYS: list.pipe(z.array(serviceKeySchema)),
  /** Where signed webhooks go (HTTPS, public address). */
  WEBHOOK_URL: optional.pipe(z.url({ error: "must be a URL" }).optional()),
  /** Standard Webhooks secret: `whsec_` and a base64 key of at least 24 bytes. */
  WEBHOOK_SECRET: optional.pipe(
    z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, "must be whsec_ followed by a base64 key of at least 24 bytes")
      .optional(),
  ),
  /** Development and tests: let webhooks go to loopback and private addresses, and over http. */
  WEBHOOK_ALLOW_PRIVATE: flag,
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** The origin people and clients reach this server at: links to attachments, in emails and in notifications start with it. */
  PUBLIC_URL: optional.pipe(z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).optional()),
  /** Store attachments in this S3 bucket (S3 or any S3-compatible server) instead of under DATA_DIR. */
  S3_BUCKET: optional,
  /** An S3-compatible server's address (MinIO, R2, …); AWS itself when absent. */
  S3_ENDPOINT: optional.pipe(z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).optional()),
  S3_REGION: optional,
  S3_ACCESS_KEY_ID: optional,
  S3_SECRET_ACCESS_KEY: optional,
  /** Signs attachment links (the same on every instance); derived from JWT_SECRET when absent. */
  ATTACHMENT_URL_SECRET: optional.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  ATTACHMENT_IMAGE_MAX_MB: z.coerce.number().positive().max(1_000).default(10),
  ATTACHMENT_FILE_MAX_MB: z.coerce.number().positive().max(5_000).default(25),
  /** Megabytes one user may upload per 24 hours. */
  ATTACHMENT_DAILY_QUOTA_MB: z.coerce.number().positive().default(200),
  /** How long an upload may wait to be sent in a message; unsent ones are deleted after. */
  ATTACHMENT_BIND_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  /** `smtp://user:pass@host:port` or `smtps://…`; without it (outside production) emails go to DATA_DIR/outbox. */
  SMTP_URL: optional.pipe(z.url({ protocol: /^smtps?$/, error: "must be an smtp:// or smtps:// URL" }).optional()),
  SMTP_FROM: z.string().trim().min(3).default("Naafe Chat <chat@localhost>"),
  /** A message unread this long goes into an email digest; at most one digest per user per this window. */
  EMAIL_DIGEST_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(7 * 86_400_000)
    .default(900_000),
  /** A message unread this long is pushed to the receiver's devices. */
  PUSH_AFTER_MS: z.coerce.number().int().min(0).max(86_400_000).default(10_000),
  /** How often due notifications are looked for. */
  NOTIFICATION_SWEEP_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  /** Web push (VAPID) keys, base64url; generated into DATA_DIR outside production. */
  VAPID_PUBLIC_KEY: optional,
  VAPID_PRIVATE_KEY: optional,
  /** A `mailto:` or `https:` contact for the push services. */
  VAPID_SUBJECT: optional.pipe(
    z
      .string()
      .regex(/^(mailto:|https:\/\/)/, "must start with mailto: or https://")
      .optional(),
  ),
  /** Development and tests: push endpoints on loopback and private addresses; refused in production. */
  PUSH_ALLOW_PRIVATE_ENDPOINTS: flag,
  PUSH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Signs one-click unsubscribe links (at least 32 characters); generated into DATA_DIR outside production. */
  UNSUBSCRIBE_SECRET: optional.pipe(z.string().min(32, "must be at least 32 characters").optional()),
});

export type Config = ReturnType<typeof loadConfig>;

/** Thrown with one line per wrong variable, so start-up can print it and stop. */
export class ConfigError extends Error {}

/**
 * Reads and checks the configuration. Without `JWT_SECRET` (outside production) a dev secret is
 * generated once and kept in `DATA_DIR`, so tokens stay valid across restarts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const vars = parsed.data;
  const production = vars.NODE_ENV === "production";
  const demo = vars.DEMO ?? (!production && !vars.JWT_PUBLIC_KEY);
  if (production && demo) throw new ConfigError("Invalid configuration:\n  DEMO: demo mode cannot run in production");
  if (production && !vars.JWT_SECRET && !vars.JWT_PUBLIC_KEY) {
    throw new ConfigError("Invalid configuration:\n  JWT_SECRET: required in production (or JWT_PUBLIC_KEY)");
  }
  if (demo && vars.JWT_PUBLIC_KEY) {
    throw new ConfigError(
      "Invalid configuration:\n  DEMO: demo mode signs HS256 tokens; it cannot run with JWT_PUBLIC_KEY",
    );
  }
  const secret = vars.JWT_PUBLIC_KEY ? undefined : (vars.JWT_SECRET ?? devSecret(vars.DATA_DIR));
  const webhooks = webhookConfig(vars, production);
  const attachments = attachmentConfig(vars, secret);
  const notifications = notificationConfig(vars, production);
  return {
    production,
    port: vars.PORT,
    host: vars.HOST,
    databaseUrl: vars.DATABASE_URL,
    databaseSchema: vars.DATABASE_SCHEMA,
    databaseLockTimeoutMs: vars.DB_LOCK_TIMEOUT_MS,
    dataDir: vars.DATA_DIR,
    redisUrl: vars.REDIS_URL,
    presenceTimeoutMs: vars.PRESENCE_TIMEOUT_MS,
    logLevel: vars.LOG_LEVEL,
    demo,
    webDist: vars.WEB_DIST,
    corsOrigins: vars.CORS_ORIGINS,
    sendLimit: { burst: vars.SEND_BURST, perSecond: vars.SEND_PER_SECOND },
    typingLimit: { burst: vars.TYPING_BURST, perSecond: vars.TYPING_PER_SECOND },
    writeLimit: { burst: vars.WRITE_BURST, perSecond: vars.WRITE_PER_SECOND },
    readLimit: { burst: vars.READ_BURST, perSecond: vars.READ_PER_SECOND },
    moderation: {
      contactMasking: vars.CONTACT_MASKING,
      editWindowMs: vars.MESSAGE_EDIT_WINDOW_MINUTES * 60_000,
      closeGraceMs: vars.CONVERSATION_CLOSE_GRACE_HOURS * 3_600_000,
    },
    limits: {
      maxConnectionsPerUser: vars.MAX_CONNECTIONS_PER_USER,
      maxSubscriptionsPerConnection: vars.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxBufferedBytes: vars.WS_MAX_BUFFERED_BYTES,
      allowedOrigins: vars.ALLOWED_ORIGINS,
      failedAuthPerMinute: vars.FAILED_AUTH_PER_MINUTE,
      maxConnectionsPerAddress: vars.MAX_CONNECTIONS_PER_ADDRESS,
      maxUnauthenticated: vars.MAX_UNAUTHENTICATED_CONNECTIONS,
      authTimeoutMs: vars.WS_AUTH_TIMEOUT_MS,
      drainTimeoutMs: vars.WS_DRAIN_TIMEOUT_MS,
      maxBatchSize: vars.MAX_BATCH_SIZE,
      pingMs: 30_000,
      pongWaitMs: 10_000,
    },
    trustProxy: vars.TRUST_PROXY ?? false,
    transcriptSigningKey: vars.TRANSCRIPT_SIGNING_KEY ?? devSigningKey(vars.DATA_DIR),
    auth: { secret, publicKey: vars.JWT_PUBLIC_KEY, issuer: vars.JWT_ISSUER, audience: vars.JWT_AUDIENCE },
    serviceKeys: vars.SERVICE_KEYS,
    webhooks,
    publicUrl: vars.PUBLIC_URL?.replace(/\/$/, ""),
    attachments,
    notifications,
  };
}

const MB = 1024 * 1024;

function attachmentConfig(vars: z.output<typeof envSchema>, jwtSecret: string | undefined) {
  const fail = (line: string) => new ConfigError(`Invalid configuration:\n  ${line}`);
  const s3Vars = [vars.S3_ENDPOINT, vars.S3_REGION, vars.S3_ACCESS_KEY_ID, vars.S3_SECRET_ACCESS_KEY];
  if (!vars.S3_BUCKET && s3Vars.some(Boolean)) throw fail("S3_BUCKET: required with the other S3_ variables");
  if (Boolean(vars.S3_ACCESS_KEY_ID) !== Boolean(vars.S3_SECRET_ACCESS_KEY)) {
    throw fail("S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together");
  }
  const urlSecret =
    vars.ATTACHMENT_URL_SECRET ??
    (jwtSecret ? createHmac("sha256", jwtSecret).update("naafe attachment links").digest("base64url") : undefined) ??
    devFileSecret(vars.DATA_DIR, "attachment-url-secret");
  return {
    s3: vars.S3_BUCKET
      ? {
          bucket: vars.S3_BUCKET,
          endpoint: vars.S3_ENDPOINT,
          region: vars.S3_REGION,
          accessKeyId: vars.S3_ACCESS_KEY_ID,
          secretAccessKey: vars.S3_SECRET_ACCESS_KEY,
        }
      : undefined,
    directory: join(vars.DATA_DIR, "attachments"),
    urlSecret,
    limits: {
      imageBytes: Math.round(vars.ATTACHMENT_IMAGE_MAX_MB * MB),
      fileBytes: Math.round(vars.ATTACHMENT_FILE_MAX_MB * MB),
      dailyBytes: Math.round(vars.ATTACHMENT_DAILY_QUOTA_MB * MB),
    },
    bindWindowMs: vars.ATTACHMENT_BIND_WINDOW_MINUTES * 60_000,
  };
}

/**
 * Web push and email digests. Outside production both are on: VAPID keys and the unsubscribe
 * secret are generated once into `DATA_DIR`, and without `SMTP_URL` emails are written to
 * `DATA_DIR/outbox`. In production push needs its keys and email needs `SMTP_URL`, each off without.
 */
function notificationConfig(vars: z.output<typeof envSchema>, production: boolean) {
  const fail = (line: string) => new ConfigError(`Invalid configuration:\n  ${line}`);
  const allowPrivateEndpoints = vars.PUSH_ALLOW_PRIVATE_ENDPOINTS ?? false;
  if (allowPrivateEndpoints && production) throw fail("PUSH_ALLOW_PRIVATE_ENDPOINTS: not allowed in production");
  if (Boolean(vars.VAPID_PUBLIC_KEY) !== Boolean(vars.VAPID_PRIVATE_KEY)) {
    throw fail("VAPID_PUBLIC_KEY: set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither");
  }
  if (vars.VAPID_PUBLIC_KEY && Buffer.from(vars.VAPID_PUBLIC_KEY, "base64url").length !== 65) {
    throw fail("VAPID_PUBLIC_KEY: must be a P-256 public key, 65 bytes in base64url");
  }
  if (vars.VAPID_PRIVATE_KEY && Buffer.from(vars.VAPID_PRIVATE_KEY, "base64url").length !== 32) {
    throw fail("VAPID_PRIVATE_KEY: must be a P-256 private key, 32 bytes in base64url");
  }
  if (production && vars.VAPID_PUBLIC_KEY && !vars.VAPID_SUBJECT) {
    throw fail("VAPID_SUBJECT: required with VAPID keys in production (mailto: or https://)");
  }
  const vapidKeys =
    vars.VAPID_PUBLIC_KEY && vars.VAPID_PRIVATE_KEY
      ? { publicKey: vars.VAPID_PUBLIC_KEY, privateKey: vars.VAPID_PRIVATE_KEY }
      : production
        ? undefined
        : devVapidKeys(vars.DATA_DIR);
  if (production && vars.SMTP_URL && !vars.UNSUBSCRIBE_SECRET) {
    throw fail("UNSUBSCRIBE_SECRET: required with SMTP_URL in production");
  }
  const emailOn = Boolean(vars.SMTP_URL) || !production;
  const publicUrl = vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`;
  return {
    publicUrl,
    pushAfterMs: vars.PUSH_AFTER_MS,
    digestAfterMs: vars.EMAIL_DIGEST_AFTER_MS,
    sweepEveryMs: vars.NOTIFICATION_SWEEP_MS,
    push: vapidKeys
      ? {
          vapid: { ...vapidKeys, subject: vars.VAPID_SUBJECT ?? "mailto:chat@localhost" },
          allowPrivateEndpoints,
          timeoutMs: vars.PUSH_TIMEOUT_MS,
        }
      : undefined,
    email: emailOn
      ? {
          from: vars.SMTP_FROM,
          smtpUrl: vars.SMTP_URL,
          outboxDir: join(vars.DATA_DIR, "outbox"),
          publicUrl,
          unsubscribeSecret: vars.UNSUBSCRIBE_SECRET ?? devFileSecret(vars.DATA_DIR, "unsubscribe-secret"),
        }
      : undefined,
  };
}

function devVapidKeys(dataDir: string): { publicKey: string; privateKey: string } {
  const file = join(dataDir, "vapid-keys.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as { publicKey: string; privateKey: string };
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const keys = generateVapidKeys();
    writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
    return keys;
  }
}

function webhookConfig(vars: z.output<typeof envSchema>, production: boolean) {
  const fail = (line: string) => new ConfigError(`Invalid configuration:\n  ${line}`);
  const allowPrivate = vars.WEBHOOK_ALLOW_PRIVATE ?? false;
  if (allowPrivate && production) throw fail("WEBHOOK_ALLOW_PRIVATE: not allowed in production");
  if (!vars.WEBHOOK_URL) {
    if (vars.WEBHOOK_SECRET) throw fail("WEBHOOK_URL: required with WEBHOOK_SECRET");
    return undefined;
  }
  if (!vars.WEBHOOK_SECRET) throw fail("WEBHOOK_SECRET: required with WEBHOOK_URL");
  const problem = webhookUrlProblem(vars.WEBHOOK_URL, { allowPrivate });
  if (problem) throw fail(`WEBHOOK_URL: ${problem}`);
  return { url: vars.WEBHOOK_URL, secret: vars.WEBHOOK_SECRET, allowPrivate, timeoutMs: vars.WEBHOOK_TIMEOUT_MS };
}

function devSecret(dataDir: string): string {
  return devFileSecret(dataDir, "dev-jwt-secret");
}

/** A random secret generated once into `DATA_DIR/<name>`, so it survives restarts. */
function devFileSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

function isEd25519PrivateKey(pem: string): boolean {
  try {
    return createPrivateKey(pem).asymmetricKeyType === "ed25519";
  } catch {
    return false;
  }
}

/**
 * Without `TRANSCRIPT_SIGNING_KEY`, a key generated once into `DATA_DIR`: transcripts exported
 * before a restart still verify. Several instances need the same key, so set the variable there.
 */
function devSigningKey(dataDir: string): string {
  const file = join(dataDir, "transcript-signing-key.pem");
  try {
    return readFileSync(file, "utf8");
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const pem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    writeFileSync(file, pem, { mode: 0o600 });
    return pem;
  }
}
