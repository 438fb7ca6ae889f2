import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";

export const migrationsDir = new URL("../../../prisma/migrations/", import.meta.url);

export type Exec = (sql: string) => Promise<unknown>;
export type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/**
 * Applies pending `prisma/migrations/*` in order and records them in `_prisma_migrations`
 * exactly as `prisma migrate deploy` does, so either tool can take over from the other.
 * The caller holds whatever lock keeps two processes from migrating at once.
 */
export async function migrate(exec: Exec, query: Query): Promise<string[]> {
  await exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`);
  const done = await query<{ migration_name: string; finished_at: Date | null }>(
    `SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const failed = done.find((row) => row.finished_at === null);
  if (failed) {
    throw new Error(
      `Migration ${failed.migration_name} failed earlier; fix the database, then mark it rolled back or applied (prisma migrate resolve).`,
    );
  }
  const applied = new Set(done.map((row) => row.migration_name));
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const newlyApplied: string[] = [];
  for (const name of names) {
    if (applied.has(name)) continue;
    const sql = await readFile(new URL(`${name}/migration.sql`, migrationsDir), "utf8");
    const id = randomUUID();
    const checksum = createHash("sha256").update(sql).digest("hex");
    await query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)`, [
      id,
      checksum,
      name,
    ]);
    // One transaction per migration: a failure leaves the schema as it was.
    await exec(`BEGIN;\n${sql}\nCOMMIT;`).catch(async (error: unknown) => {
      await exec("ROLLBACK").catch(() => {});
      await query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, String(error)]);
      throw error;
    });
    await query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
    newlyApplied.push(name);
  }
  return newlyApplied;
}
