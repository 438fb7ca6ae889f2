import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import * as engineBindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { migrationsDir } from "./migrate.ts";

// Prisma's own schema engine, compiled to WebAssembly: the native one cannot be downloaded here.
// It runs on an in-memory PGlite, which also serves as the shadow database for replaying migrations.

export const schemaFile = new URL("../../../prisma/schema.prisma", import.meta.url);
// Node's WebAssembly global; @types/node leaves it to lib.dom, which a server should not load.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: object } }>;
};

const noFilters = { externalTables: [], externalEnums: [] };

let loaded: Promise<void> | undefined;
function loadEngine(): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg").replace(/\.js$/, ".wasm");
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      "./schema_engine_bg.js": engineBindings,
    });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  })();
  return loaded;
}

async function migrationList() {
  const baseDir = fileURLToPath(migrationsDir);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return {
    baseDir,
    lockfile: {
      path: "migration_lock.toml",
      content: await readFile(new URL("migration_lock.toml", migrationsDir), "utf8").catch(() => null),
    },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: { tag: "ok" as const, value: await readFile(`${baseDir}/${name}/migration.sql`, "utf8") },
        },
      })),
    ),
  };
}

// The extensions the migrations create (message search uses pg_trgm), in the shadow database too:
// the adapter's own shadow database is a PGlite without extensions.
const newPglite = () => new PGlite({ extensions: { pg_trgm } });
class PGliteWithExtensions extends PrismaPGlite {
  override connectToShadowDb() {
    return new PrismaPGlite(newPglite()).connect();
  }
}

/**
 * The SQL that would bring a database migrated with `prisma/migrations` to `schema.prisma`;
 * empty when the two agree. `schema` replaces the file's text (tests use it). Same engine and output as `prisma migrate diff --script`.
 */
export async function pendingSchemaChanges(schema?: string): Promise<string> {
  await loadEngine();
  schema ??= await readFile(schemaFile, "utf8");
  const pglite = newPglite();
  const engine = await engineBindings.SchemaEngine.new(
    { datamodels: [["schema.prisma", schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(new PGliteWithExtensions(pglite)),
  );
  try {
    const result = await engine.diff({
      from: { tag: "migrations", ...(await migrationList()) },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schema }] },
      script: true,
      exitCode: true,
      filters: noFilters,
    });
    return result.exitCode === 0 ? "" : (result.stdout ?? "");
  } finally {
    engine.free();
    await pglite.close();
  }
}
