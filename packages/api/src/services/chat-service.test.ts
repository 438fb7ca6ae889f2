import type { Database } from "@naafe/db";
import { openTestDatabase, prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { MARK_DELIVERED, STORE_MESSAGES } from "./chat-service.ts";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

/**
 * The plan PostgreSQL keeps for `text` once it stops planning each execution (a generic plan),
 * made now, from the statistics the database has now.
 */
async function keptPlan(db: Database, text: string, parameters: number): Promise<PlanNode> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe("SET LOCAL plan_cache_mode = force_generic_plan");
    await tx.$executeRawUnsafe(`PREPARE kept AS ${text}`);
    try {
      const nulls = Array.from({ length: parameters }, () => "NULL").join(", ");
      const [row] = await tx.$queryRawUnsafe<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>(
        `EXPLAIN (FORMAT JSON) EXECUTE kept(${nulls})`,
      );
      if (!row) throw new Error("EXPLAIN returned nothing");
      return row["QUERY PLAN"][0].Plan;
    } finally {
      await tx.$executeRawUnsafe("DEALLOCATE kept");
    }
  });
}

/** The tables a plan reads whole. */
function scannedTables(node: PlanNode): string[] {
  const own = node["Node Type"] === "Seq Scan" && node["Relation Name"] ? [node["Relation Name"]] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scannedTables)];
}

beforeAll(prepareTestDatabases);

describe.each(testBackends)("the hot statements on %s", (backend) => {
  // A new database has empty tables and no statistics: the worst case for a kept plan, which
  // would go on scanning the tables whole as they grow.
  it.each([
    ["storing messages", STORE_MESSAGES, 7],
    ["marking messages delivered", MARK_DELIVERED, 5],
  ])("reach rows by key only when %s, even with a plan made on a new database", async (_, text, parameters) => {
    await using db = await openTestDatabase(backend);
    expect(scannedTables(await keptPlan(db, text, parameters))).toEqual([]);
  });
});
