import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { pendingSchemaChanges, schemaFile } from "../src/schema-engine.ts";
import { openTestDatabase, testBackends } from "../src/testing.ts";

describe("prisma/migrations", () => {
  it("produce exactly schema.prisma (no drift)", async () => {
    expect(await pendingSchemaChanges()).toBe("");
  });

  it("drift is detected when schema.prisma changes without a migration", async () => {
    const schema = await readFile(schemaFile, "utf8");
    const changed = schema.replace("model Message {", "model Message {\n  driftProbe DateTime?");
    expect(await pendingSchemaChanges(changed)).toMatch(/ALTER TABLE "Message" ADD COLUMN\s+"driftProbe"/);
  });

  it.each(testBackends)("are applied on open and recorded like prisma migrate deploy (%s)", async (backend) => {
    await using db = await openTestDatabase(backend);
    const rows = await db.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
      SELECT migration_name, finished_at IS NOT NULL AS finished FROM "_prisma_migrations"`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.finished)).toBe(true);
    expect(await db.prisma.conversation.count()).toBe(0);
  });
});
