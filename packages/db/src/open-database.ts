import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "./generated/client.ts";
import { migrate } from "./migrate.ts";

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it the embedded PGlite is used. */
  url?: string | undefined;
  /** PostgreSQL schema to use instead of the connection's default (tests use one each). */
  schema?: string | undefined;
  /** PGlite's folder; without it PGlite keeps everything in memory. */
  dataDir?: string | undefined;
  /**
   * PostgreSQL: how long a hot statement (`query`: a batch of sends) waits for a row another
   * transaction holds before it fails with `lock_not_available` (55P03). Default 1,000 ms.
   */
  lockTimeoutMs?: number | undefined;
}

/** Where the database is, for libraries that open connections of their own (the job queue). */
export type DatabaseLocation =
  | { kind: "postgres"; url: string; schema: string | undefined }
  | { kind: "pglite"; pglite: PGlite };

export interface Database {
  prisma: PrismaClient;
  kind: "postgres" | "pglite";
  location: DatabaseLocation;
  /**
   * One statement with `$1…` parameters, straight through the driver: for the few hot
   * statements (sending a message) where Prisma's query pipeline costs more than the statement.
   * On PostgreSQL each text becomes a prepared statement with one kept plan, on connections
   * where sequential scans are ruled out: pass constant texts only, and reach every row by key.
   * Pass dates as ISO strings; the columns are UTC `timestamp`s.
   */
  query<T>(text: string, params: unknown[]): Promise<T[]>;
  /** Whether the database answers right now (for health checks). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// The key `prisma migrate` itself locks, so our start-up and Prisma's CLI never migrate at once.
const MIGRATION_LOCK = 72707369;

/** Opens the database, applying pending migrations first. */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  return options.url
    ? openPostgres(options.url, options.schema, options.lockTimeoutMs ?? 1_000)
    : openPglite(options.dataDir);
}

async function openPostgres(url: string, schema: string | undefined, lockTimeoutMs: number): Promise<Database> {
  const searchPath = schema ? `-c search_path="${schema.replaceAll('"', "")}"` : "";
  const pool = openPool(url, searchPath);
  const client = await pool.connect();
  try {
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', "")}"`);
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await migrate(
        (sql) => client.query(sql),
        async (sql, params) => (await client.query(sql, params)).rows,
      );
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : undefined) });
  // The hot statements (`query`) get connections of their own, with two planner settings and
  // a lock timeout: a row held by someone else's long transaction fails one batch of sends
  // soon, which the sender splits (chat/messages.ts), instead of stalling every batch behind it.
  // PostgreSQL may not scan a table whole: without statistics (a new database, or autovacuum
  // off) or while they are small, it read Conversation and Message whole for every statement,
  // ever more rows as they grew; every table these statements touch, they reach by key. And
  // it keeps one plan per statement and connection: left to itself it planned them anew on
  // every run. Their own connections (two sends' and the delivery receipts' statements at a
  // time) also keep sends from waiting behind Prisma, and stay open when idle, so the first
  // send after a quiet spell does not wait for a new connection and its statements' plans.
  const hotSettings = `-c enable_seqscan=off -c plan_cache_mode=force_generic_plan -c lock_timeout=${lockTimeoutMs}`;
  const hotPool = openPool(url, `${searchPath} ${hotSettings}`, {
    max: 4,
    idleTimeoutMillis: 0,
  });
  // Health checks get a connection of their own: users' load exhausting the pools must not
  // make a healthy database look down to a load balancer.
  const healthPool = openPool(url, searchPath, { max: 1, idleTimeoutMillis: 0 });
  return {
    prisma,
    kind: "postgres",
    location: { kind: "postgres", url, schema },
    query: async <T>(text: string, values: unknown[]) =>
      (await hotPool.query({ name: nameOf(text), text, values })).rows as T[],
    ping: () => ping(() => healthPool.query("SELECT 1")),
    async close() {
      await prisma.$disconnect();
      await Promise.all([pool.end(), hotPool.end(), healthPool.end()]);
    },
  };
}

function openPool(url: string, options: string, sizing: Pick<pg.PoolConfig, "max" | "idleTimeoutMillis"> = {}) {
  const pool = new pg.Pool({
    connectionString: url,
    // Fail fast when the server is unreachable instead of queueing requests forever, and
    // when it stops answering mid-query (a network partition sends no reset).
    connectionTimeoutMillis: 5_000,
    query_timeout: 5_000,
    keepAlive: true,
    ...sizing,
    ...(options ? { options: options.trim() } : {}),
  });
  // An idle client whose server went away must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  return pool;
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  return usePglite(await migratedPglite(dataDir));
}

// `query` names each statement after its text, so each connection parses and plans it once
// (the send statement's planning cost more than running it). Its texts are a few constants.
const statementNames = new Map<string, string>();
function nameOf(text: string) {
  let name = statementNames.get(text);
  if (!name) {
    name = `naafe_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A PGlite (in memory without `dataDir`) with all migrations applied. */
export async function migratedPglite(dataDir?: string): Promise<PGlite> {
  // PGlite creates only the last folder of the path.
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // pg_trgm: message search's index for parts of words (prisma/migrations/*_message_search).
  const pglite = new PGlite({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  await migrate(
    (sql) => pglite.exec(sql),
    async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  );
  return pglite;
}

/** Wraps an already migrated PGlite (tests clone one migrated template instead of migrating each time). */
export function usePglite(pglite: PGlite): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: "pglite",
    location: { kind: "pglite", pglite },
    query: async <T>(text: string, params: unknown[]) => (await pglite.query<T>(text, params)).rows,
    ping: () => ping(() => pglite.query("SELECT 1")),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/** Whether the database answers within two seconds (a health check must not hang). */
async function ping(select1: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), 2_000);
  });
  const answer = select1().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
