import type { Prisma, PrismaClient } from "@naafe/db";

type Client = PrismaClient | Prisma.TransactionClient;

export interface AuditEntry {
  moderatorId: string;
  /** What was read or done, e.g. `conversation.read`, `conversation.close`. */
  action: string;
  targetType: "conversation" | "report" | "user" | "audit";
  targetId: string | null;
  /** Why, in the moderator's words or the report that led there. */
  reason: string | null;
}

/**
 * Appends one row to the audit log. Rows are never updated or deleted: no procedure does, and a
 * database trigger refuses it for anyone else.
 */
export async function recordAudit(client: Client, entry: AuditEntry, at: Date) {
  await client.moderationAudit.create({ data: { ...entry, at } });
}

/** The audit log, newest first, a page at a time (`before`: the id of the last row of the previous page). */
export async function auditPage(
  prisma: PrismaClient,
  { limit, before }: { limit: number; before?: string | undefined },
) {
  const rows = await prisma.moderationAudit.findMany({
    where: before === undefined ? {} : { id: { lt: BigInt(before) } },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const page = rows.slice(0, limit).map((row) => ({ ...row, id: row.id.toString() }));
  return { entries: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}
