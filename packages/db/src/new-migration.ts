import { mkdir, writeFile } from "node:fs/promises";
import { migrationsDir } from "./migrate.ts";
import { pendingSchemaChanges } from "./schema-engine.ts";

// `pnpm db:migration <name>`: writes what `prisma migrate dev --create-only` would, offline.
const name = process.argv[2]?.replace(/[^a-z0-9_]+/gi, "_").toLowerCase();
if (!name) {
  console.error("Usage: pnpm db:migration <name>");
  process.exit(1);
}
const sql = await pendingSchemaChanges();
if (!sql.trim()) {
  console.log("schema.prisma and prisma/migrations agree; nothing to write.");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = new URL(`${stamp}_${name}/`, migrationsDir);
await mkdir(dir, { recursive: true });
await writeFile(new URL("migration.sql", dir), sql);
console.log(`Wrote prisma/migrations/${stamp}_${name}/migration.sql`);
