import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
  JWT_ISSUER: optional,
  JWT_AUDIENCE: optional,
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
  MAX_CONNECTIONS_PER_USER: count(20),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: count(100),
  /** Bytes queued for one client before it is dropped as a slow consumer. */
  WS_MAX_BUFFERED_BYTES: count(1024 * 1024),
  FAILED_AUTH_PER_MINUTE: count(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DEMO: flag,
  WEB_DIST: z.string().default(join(repoRoot, "apps/web/dist")),
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
  return {
    production,
    port: vars.PORT,
    host: vars.HOST,
    databaseUrl: vars.DATABASE_URL,
    databaseSchema: vars.DATABASE_SCHEMA,
    dataDir: vars.DATA_DIR,
    redisUrl: vars.REDIS_URL,
    presenceTimeoutMs: vars.PRESENCE_TIMEOUT_MS,
    logLevel: vars.LOG_LEVEL,
    demo,
    webDist: vars.WEB_DIST,
    corsOrigins: vars.CORS_ORIGINS,
    sendLimit: { burst: vars.SEND_BURST, perSecond: vars.SEND_PER_SECOND },
    typingLimit: { burst: vars.TYPING_BURST, perSecond: vars.TYPING_PER_SECOND },
    limits: {
      maxConnectionsPerUser: vars.MAX_CONNECTIONS_PER_USER,
      maxSubscriptionsPerConnection: vars.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxBufferedBytes: vars.WS_MAX_BUFFERED_BYTES,
      allowedOrigins: vars.ALLOWED_ORIGINS,
      failedAuthPerMinute: vars.FAILED_AUTH_PER_MINUTE,
    },
    auth: { secret, publicKey: vars.JWT_PUBLIC_KEY, issuer: vars.JWT_ISSUER, audience: vars.JWT_AUDIENCE },
  };
}

function devSecret(dataDir: string): string {
  const file = join(dataDir, "dev-jwt-secret");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}
