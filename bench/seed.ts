/**
 * Bench data written straight into the database, for both servers alike: the marketplace flow
 * (job request → offer → accept, and the "Offer accepted" notice it opens a conversation with) is
 * not what is measured, and 5,000 conversations through it would take longer than the scenarios.
 * Ids are derived from a prefix and an index, so the load process can compute them without being
 * sent a list, and every query takes scalar parameters only (the PGlite adapter and `pg` then
 * behave the same).
 */
export type Sql = (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export const userId = (prefix: string, index: number) => `bench-${prefix}-u${index}`;
export const conversationId = (prefix: string, pair: number) => `bench-${prefix}-c${pair}`;

/** Users 2k (seeker) and 2k+1 (provider) share conversation k. */
export async function seedPairs(sql: Sql, prefix: string, pairs: number) {
  const users = pairs * 2;
  await sql(
    `INSERT INTO "User" ("id", "name", "createdAt", "updatedAt")
     SELECT 'bench-' || $1::text || '-u' || g, 'Bench user ' || g, now(), now() FROM generate_series(0, $2::int - 1) g
     ON CONFLICT DO NOTHING`,
    [prefix, users],
  );
  await sql(
    `INSERT INTO "JobRequest" ("id", "seekerId", "title", "status", "createdAt", "updatedAt")
     SELECT 'bench-' || $1::text || '-c' || g, 'bench-' || $1::text || '-u' || (2 * g), 'Bench job', 'assigned'::"JobRequestStatus", now(), now()
     FROM generate_series(0, $2::int - 1) g
     ON CONFLICT DO NOTHING`,
    [prefix, pairs],
  );
  await sql(
    `INSERT INTO "Conversation" ("id", "jobRequestId", "participantSeeker", "participantProvider", "createdAt", "updatedAt")
     SELECT 'bench-' || $1::text || '-c' || g, 'bench-' || $1::text || '-c' || g,
            'bench-' || $1::text || '-u' || (2 * g), 'bench-' || $1::text || '-u' || (2 * g + 1), now(), now()
     FROM generate_series(0, $2::int - 1) g
     ON CONFLICT DO NOTHING`,
    [prefix, pairs],
  );
}

/**
 * Appends `count` messages to conversation 0 of `prefix`, alternating senders, as if they
 * had been sent while its provider was away; returns the id of the message just before them.
 */
export async function seedBacklog(sql: Sql, prefix: string, count: number): Promise<string> {
  const conversation = conversationId(prefix, 0);
  const seeker = userId(prefix, 0);
  const provider = userId(prefix, 1);
  // The message the away client saw last.
  await sql(
    `WITH c AS (UPDATE "Conversation" SET "messageCount" = "messageCount" + 1 WHERE "id" = $1 RETURNING "messageCount")
     INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "timestamp", "createdAt", "updatedAt")
     SELECT $1 || '-m0', $1, c."messageCount", $2, $3, 'seen before going away', now(), now(), now() FROM c`,
    [conversation, seeker, provider],
  );
  await sql(
    `WITH c AS (UPDATE "Conversation" SET "messageCount" = "messageCount" + $4::int WHERE "id" = $1 RETURNING "messageCount")
     INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "timestamp", "createdAt", "updatedAt")
     SELECT $1 || '-m' || g, $1, c."messageCount" - $4::int + g,
            CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, CASE WHEN g % 2 = 0 THEN $3 ELSE $2 END,
            'missed message ' || g || ' ' || repeat('x', 80), now(), now(), now()
     FROM c, generate_series(1, $4::int) g`,
    [conversation, seeker, provider, count],
  );
  return `${conversation}-m0`;
}
