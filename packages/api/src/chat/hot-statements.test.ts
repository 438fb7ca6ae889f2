import type { Database } from "@naafe/db";
import { openTestDatabase, prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { STORE_MESSAGES, STORE_MESSAGES_AND_EVENTS } from "./messages.ts";
import { MARK_DELIVERED } from "./receipts.ts";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Cond"?: string;
  Plans?: PlanNode[];
}

/**
 * The plan the hot statements' connections keep for `text` (a generic plan, with sequential
 * scans ruled out), made from the statistics the database has now.
 */
async function keptPlan(db: Database, text: string, parameters: number): Promise<PlanNode> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe("SET LOCAL plan_cache_mode = force_generic_plan");
    await tx.$executeRawUnsafe("SET LOCAL enable_seqscan = off");
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

/** The tables a plan reads whole: scanned in order, or along an index without a condition. */
function tablesReadWhole(node: PlanNode): string[] {
  const type = node["Node Type"];
  const whole = type === "Seq Scan" || (type.startsWith("Index") && node["Index Cond"] === undefined);
  const table = node["Relation Name"];
  return [...(whole && table ? [table] : []), ...(node.Plans ?? []).flatMap(tablesReadWhole)];
}

beforeAll(prepareTestDatabases);

// Only PostgreSQL keeps plans: PGlite's `query` plans every run.
describe.skipIf(!testBackends.includes("postgres"))("the hot statements on PostgreSQL", () => {
  it("run on connections that keep one plan each, with no table read whole", async () => {
    await using db = await openTestDatabase("postgres");
    const [row] = await db.query<{ seqscan: string; cache: string }>(
      "SELECT current_setting('enable_seqscan') AS seqscan, current_setting('plan_cache_mode') AS cache",
      [],
    );
    expect(row).toEqual({ seqscan: "off", cache: "force_generic_plan" });
  });

  // A new database has empty tables and no statistics: the worst case for a kept plan, which
  // goes on being used as the tables grow.
  it.each([
    ["storing messages", STORE_MESSAGES, 8],
    ["storing messages and their webhook events", STORE_MESSAGES_AND_EVENTS, 8],
    ["marking messages delivered", MARK_DELIVERED, 5],
  ])("reach rows by key only when %s, even with a plan made on a new database", async (_, text, parameters) => {
    await using db = await openTestDatabase("postgres");
    expect(tablesReadWhole(await keptPlan(db, text, parameters))).toEqual([]);
  });
});
