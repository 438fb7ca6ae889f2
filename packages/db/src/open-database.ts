import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
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
}

export interface Database {
  prisma: PrismaClient;
  kind: "postgres" | "pglite";
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
  return options.url ? openPostgres(options.url, options.schema) : openPglite(options.dataDir);
}

async function openPostgres(url: string, schema: string | undefined): Promise<Database> {
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
  // The hot statements (`query`) get connections of their own, with two planner settings.
  // PostgreSQL may not scan a table whole: without statistics (a new database, or autovacuum
  // off) or while they are small, it read Conversation and Message whole for every statement,
  // ever more rows as they grew; every table these statements touch, they reach by key. And
  // it keeps one plan per statement and connection: left to itself it planned them anew on
  // every run. Their own connections (two sends' and the delivery receipts' statements at a
  // time) also keep sends from waiting behind Prisma, and stay open when idle, so the first
  // send after a quiet spell does not wait for a new connection and its statements' plans.
  const hotPool = openPool(url, `${searchPath} -c enable_seqscan=off -c plan_cache_mode=force_generic_plan`, {
    max: 4,
    idleTimeoutMillis: 0,
  });
  return {
    prisma,
    kind: "postgres",
    query: async <T>(text: string, values: unknown[]) =>
      (await hotPool.query({ name: nameOf(text), text, values })).rows as T[],
    ping: () => ping(prisma),
    async close() {
      await prisma.$disconnect();
      await Promise.all([pool.end(), hotPool.end()]);
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
  const pglite = new PGlite(dataDir);
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
    query: async <T>(text: string, params: unknown[]) => (await pglite.query<T>(text, params)).rows,
    ping: () => ping(prisma),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/** Whether the database answers within two seconds (a health check must not hang). */
async function ping(prisma: PrismaClient): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), 2_000);
  });
  const answer = prisma.$queryRaw`SELECT 1`.then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
