import { randomBytes } from "node:crypto";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type Database, migratedPglite, openDatabase, usePglite } from "./open-database.ts";

export type Backend = "pglite" | "postgres";

/** PGlite always; PostgreSQL too when `DATABASE_URL` is set (CI sets it). */
export const testBackends: Backend[] = process.env["DATABASE_URL"] ? ["pglite", "postgres"] : ["pglite"];

// Migrating a PGlite takes seconds; cloning a migrated one takes milliseconds.
let template: Promise<PGlite> | undefined;

/**
 * Migrates the PGlite template now: call it in `beforeAll`, so the slow first start counts
 * against the hook timeout, not the first test's.
 */
export async function prepareTestDatabases(): Promise<void> {
  template ??= migratedPglite();
  await template;
}

/**
 * A fresh, migrated database for one test: an in-memory PGlite, or a new schema of the
 * PostgreSQL at `DATABASE_URL`, dropped again on close, so tests never see each other's data.
 */
export async function openTestDatabase(backend: Backend): Promise<Database & AsyncDisposable> {
  if (backend === "pglite") {
    template ??= migratedPglite();
    // clone() is typed as the interface, but it is a PGlite like its template.
    const db = usePglite((await (await template).clone()) as PGlite);
    return { ...db, [Symbol.asyncDispose]: db.close };
  }
  const url = process.env["DATABASE_URL"];
  if (!url) throw new Error("DATABASE_URL is not set.");
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const db = await openDatabase({ url, schema });
  const close = async () => {
    await db.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    // The job queue's schema beside it (see the API's platform/jobs.ts).
    await client.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
    await client.end();
  };
  return { ...db, close, [Symbol.asyncDispose]: close };
}
