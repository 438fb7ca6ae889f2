import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Database } from "@naafe/db";
import { badRequest, DomainError, forbidden } from "../errors.ts";
import { highlightRanges, MIN_PARTIAL_LENGTH, searchTerms } from "./normalize-arabic.ts";
import type { SearchInput } from "./schemas.ts";

/** Matches ranked per search, newest first: a word in every message cannot make a search slow. */
export const MAX_CANDIDATES = 1_000;

/**
 * A caller with up to this many messages (their conversations' `messageCount`s added up) has them
 * read one by one; with more, the planner's estimate of the matches among everyone's messages
 * decides whether the search indexes would find them sooner.
 */
export const SCAN_MESSAGES = 10_000;

export interface SearchDeps {
  db: Pick<Database, "prisma">;
  /** Throws unless `userId` takes part in the conversation. */
  assertParticipant(conversationId: string, userId: string): Promise<unknown>;
  /** Signs cursors, so a changed one is refused rather than half-understood. */
  cursorKey: Uint8Array;
  /**
   * The text of a message as the viewer may see it (contact details masked for its receiver);
   * the words are matched against the stored text, so a hit only in what is hidden is dropped.
   */
  view?:
    | ((viewerId: string, hit: Pick<Row, "conversationId" | "senderId" | "type" | "content">) => Promise<string>)
    | undefined;
  /** How the caller's messages are reached (`auto` unless given; tests take each way). */
  strategy?: "auto" | "conversations" | "indexes" | undefined;
}

interface Row {
  id: string;
  conversationId: string;
  senderId: string;
  type: string;
  content: string;
  timestamp: Date;
  otherId: string;
  otherName: string | null;
}

/*
 * The statements' parameters. What a message must match: $1 every word as written, the last one
 * a prefix (tsquery); $2 the words (for their stems); $3 `%part%` of each word of 3+
 * characters; $4 the longest of those. Then $5 the conversations searched and $6 the other
 * participant of each; $7 the whole query as a phrase; $8 any word (tsquery, for ranking); $9
 * the offset and $10 the limit of the page.
 */

/**
 * A message's words match: all of them as written or stemmed, or all as parts of its text.
 * `LIKE ALL` cannot use the trigram index, so the longest part is tested by a plain `LIKE`
 * first, which can.
 */
const matches = (vector: string, text: string) => `
  (${vector} @@ (to_tsquery('pg_catalog.simple', $1) || plainto_tsquery('pg_catalog.arabic', $2)
      || plainto_tsquery('pg_catalog.english', $2))
    OR (cardinality($3::text[]) > 0 AND ${text} LIKE $4 AND ${text} LIKE ALL ($3::text[])))`;

/** The planner's estimate of how many messages, everyone's, match (from the columns' statistics). */
const ESTIMATE = `EXPLAIN (FORMAT JSON) SELECT 1 FROM "Message" m WHERE ${matches('m."searchVector"', 'm."searchText"')}`;

/**
 * The matching messages without files, read through the caller's conversations, each
 * conversation's newest first until it has given `MAX_CANDIDATES`: the stored columns of a few
 * thousand messages are tested sooner than an index finds a common word among everyone's. The
 * match is kept out of the subquery that reads the messages (OFFSET 0), so PostgreSQL cannot
 * start from the search indexes instead.
 */
const TEXTS_BY_CONVERSATION = `
    SELECT m.* FROM unnest($5::text[]) AS mine("id"), LATERAL (
      SELECT m.* FROM (
        SELECT m."id", m."conversationId", m."senderId", m."type"::text AS "type", m."content", m."timestamp", m."searchVector" AS "vector", m."searchText" AS "text"
        FROM "Message" m
        WHERE m."conversationId" = mine."id" AND m."deletedAt" IS NULL AND m."type" IN ('text', 'system')
        ORDER BY m."seq" DESC
        OFFSET 0
      ) m
      WHERE ${matches('m."vector"', 'm."text"')}
      LIMIT ${MAX_CANDIDATES}
    ) m`;

/** The same from the search indexes, with the conversations' index: a rare word among many messages. */
const TEXTS_BY_INDEX = `
    SELECT m."id", m."conversationId", m."senderId", m."type"::text AS "type", m."content", m."timestamp", m."searchVector" AS "vector", m."searchText" AS "text"
    FROM "Message" m
    WHERE m."conversationId" = ANY($5::text[]) AND m."deletedAt" IS NULL AND m."type" IN ('text', 'system')
      AND ${matches('m."searchVector"', 'm."searchText"')}`;

/**
 * Messages with files (types `image` and `file`), searched in their text and their files' names
 * together: the stored columns of the bound attachments of the caller's conversations
 * (`Attachment`'s, from `name`) joined to the message's.
 */
const WITH_FILES = `
    SELECT m.* FROM (
      SELECT m."id", m."conversationId", m."senderId", m."type"::text AS "type", m."content", m."timestamp",
        m."searchVector" || f."vector" AS "vector", m."searchText" || ' ' || f."text" AS "text"
      FROM (
        SELECT a."messageId", naafe_search_vector_agg(a."searchVector" ORDER BY a."position") AS "vector",
          string_agg(a."searchText", ' ' ORDER BY a."position") AS "text"
        FROM "Attachment" a
        WHERE a."conversationId" = ANY($5::text[]) AND a."messageId" IS NOT NULL
        GROUP BY a."messageId"
      ) f
      JOIN "Message" m ON m."id" = f."messageId"
      WHERE m."deletedAt" IS NULL
    ) m
    WHERE ${matches('m."vector"', 'm."text"')}`;

/**
 * Full-text match (words as written, Arabic and English stems; the last word may be unfinished)
 * or, for words of 3+ characters, the words as parts of the text (trigrams): "350" finds
 * "350SAR". At most `MAX_CANDIDATES` matches, the newest; ranked by `ts_rank`, with the whole
 * query found as written first; ties newest first. The other participant's name is read for the
 * page only.
 */
const search = (texts: string) => `
  WITH candidates AS (
    SELECT * FROM ((${texts}) UNION ALL (${WITH_FILES})) c
    ORDER BY c."timestamp" DESC
    LIMIT ${MAX_CANDIDATES}
  ), page AS (
    SELECT c."id", c."conversationId", c."senderId", c."type", c."content", c."timestamp",
      (CASE WHEN c."text" LIKE $7 THEN 1 ELSE 0 END)
        + ts_rank(c."vector", to_tsquery('pg_catalog.simple', $8) || plainto_tsquery('pg_catalog.arabic', $2)
          || plainto_tsquery('pg_catalog.english', $2)) AS "score"
    FROM candidates c
    ORDER BY "score" DESC, c."timestamp" DESC, c."id" DESC
    OFFSET $9 LIMIT $10
  )
  SELECT p."id", p."conversationId", p."senderId", p."type", p."content", p."timestamp", mine."otherId", u."name" AS "otherName"
  FROM page p
  JOIN unnest($5::text[], $6::text[]) AS mine("id", "otherId") ON mine."id" = p."conversationId"
  LEFT JOIN "User" u ON u."id" = mine."otherId"
  ORDER BY p."score" DESC, p."timestamp" DESC, p."id" DESC`;

const statements = {
  conversations: search(TEXTS_BY_CONVERSATION),
  indexes: search(TEXTS_BY_INDEX),
};

/**
 * Set for the search's transaction: its plans run in milliseconds but can be estimated dear (one
 * subquery per conversation), and compiling them (JIT) or starting parallel workers takes
 * longer than that.
 */
const PLAN_SETTINGS = `SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`;

/** LIKE's own characters taken literally (terms are letters and digits, but the phrase keeps spaces only). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/** A query's words as the statements' parameters $1–$4 (what a message must match). */
export function matchParameters(terms: string[]) {
  const parts = terms.filter((term) => term.length >= MIN_PARTIAL_LENGTH);
  const longest = parts.reduce((found, term) => (term.length > found.length ? term : found), "");
  return [
    terms.map((term) => `${term}:*`).join(" & "),
    terms.join(" "),
    parts.map((term) => `%${likeLiteral(term)}%`),
    `%${likeLiteral(longest)}%`,
  ];
}

/** How many messages, everyone's, the planner expects to match (Infinity if its answer cannot be read). */
export async function estimateMatches(db: Pick<Database, "prisma">, match: unknown[]): Promise<number> {
  const [explained] = await db.prisma.$queryRawUnsafe<{ "QUERY PLAN"?: unknown }[]>(ESTIMATE, ...match);
  const raw = explained?.["QUERY PLAN"];
  const plan = (typeof raw === "string" ? JSON.parse(raw) : raw) as [{ Plan?: { "Plan Rows"?: unknown } }] | undefined;
  const rows = plan?.[0]?.Plan?.["Plan Rows"];
  return typeof rows === "number" ? rows : Number.POSITIVE_INFINITY;
}

export function createSearchService({ db, assertParticipant, cursorKey, view, strategy = "auto" }: SearchDeps) {
  const cursors = createCursorCodec(cursorKey);

  /**
   * Reading the caller's messages costs about as much per message as the indexes cost per match
   * among everyone's (and stops early on a common word), so the indexes are used only when the
   * planner expects far fewer matches in the whole table than the caller has messages.
   */
  async function byIndexes(match: unknown[], messages: number) {
    if (strategy !== "auto") return strategy === "indexes";
    return messages > SCAN_MESSAGES && (await estimateMatches(db, match)) * 10 < messages;
  }

  /** The file names of the page's messages with files, in their order, by message. */
  async function fileNames(rows: Row[]) {
    const ids = rows.filter((row) => row.type === "image" || row.type === "file").map((row) => row.id);
    const byMessage = new Map<string, string[]>();
    if (ids.length === 0) return byMessage;
    const found = await db.prisma.attachment.findMany({
      where: { messageId: { in: ids } },
      orderBy: [{ messageId: "asc" }, { position: "asc" }],
      select: { messageId: true, name: true },
    });
    for (const { messageId, name } of found) {
      if (messageId === null) continue;
      const names = byMessage.get(messageId);
      if (names) names.push(name);
      else byMessage.set(messageId, [name]);
    }
    return byMessage;
  }

  return {
    /** The caller's messages matching `query`, best first, a page at a time. */
    async search(userId: string, input: SearchInput) {
      const { query, conversationId, limit } = input;
      const terms = searchTerms(query);
      const scope = createHash("sha256")
        .update(JSON.stringify([userId, conversationId ?? null, terms]))
        .digest("base64url")
        .slice(0, 16);
      const offset = input.cursor === undefined ? 0 : cursors.decode(input.cursor, scope);
      if (conversationId !== undefined) {
        // Not found and not theirs read the same: a caller learns nothing about others' conversations.
        await assertParticipant(conversationId, userId).catch((error: unknown) => {
          if (error instanceof DomainError) throw forbidden("You can only search your own conversations.");
          throw error;
        });
      }
      if (offset >= MAX_CANDIDATES) return { results: [], nextCursor: null };
      const mine = await db.prisma.conversation.findMany({
        where: {
          OR: [{ participantSeeker: userId }, { participantProvider: userId }],
          ...(conversationId === undefined ? {} : { id: conversationId }),
        },
        select: { id: true, participantSeeker: true, participantProvider: true, messageCount: true },
      });
      const match = matchParameters(terms);
      const messages = mine.reduce((sum, conversation) => sum + conversation.messageCount, 0);
      const statement = (await byIndexes(match, messages)) ? statements.indexes : statements.conversations;
      const [, rows] = await db.prisma.$transaction([
        db.prisma.$queryRawUnsafe(PLAN_SETTINGS),
        db.prisma.$queryRawUnsafe<Row[]>(
          statement,
          ...match,
          mine.map((conversation) => conversation.id),
          mine.map((c) => (c.participantSeeker === userId ? c.participantProvider : c.participantSeeker)),
          `%${likeLiteral(terms.join(" "))}%`,
          terms.join(" | "),
          offset,
          limit + 1,
        ),
      ]);
      const shown = rows.slice(0, limit);
      const files = await fileNames(shown);
      const page = await Promise.all(
        shown.map(async (row) => {
          const content = view ? await view(userId, row) : row.content;
          const highlights = highlightRanges(content, terms);
          // Masked, and nothing left to match: found in the hidden digits, which must not be probed.
          if (content !== row.content && highlights.length === 0) return null;
          return {
            messageId: row.id,
            conversationId: row.conversationId,
            content,
            highlights,
            timestamp: row.timestamp,
            otherParticipant: { id: row.otherId, name: row.otherName },
            /** The message's files, each name with what matched in it (a hit may be in a name only). */
            files: (files.get(row.id) ?? []).map((name) => ({ name, highlights: highlightRanges(name, terms) })),
          };
        }),
      );
      return {
        results: page.filter((result) => result !== null),
        nextCursor: rows.length > limit ? cursors.encode(offset + limit, scope) : null,
      };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;

/**
 * Cursors are `offset.scope.mac`: the position in the ranked results, the search it belongs to
 * (user, conversation, words), and an HMAC over both.
 */
function createCursorCodec(key: Uint8Array) {
  const mac = (body: string) => createHmac("sha256", key).update(body).digest().subarray(0, 16);
  const invalid = () => badRequest("That cursor is not valid for this search; start again from the first page.");
  return {
    encode(offset: number, scope: string) {
      const body = `${offset}.${scope}`;
      return `${body}.${mac(body).toString("base64url")}`;
    },
    decode(cursor: string, scope: string): number {
      const match = /^(\d{1,6})\.([\w-]{16})\.([\w-]{22})$/.exec(cursor);
      if (!match) throw invalid();
      const [, offset = "", cursorScope = "", signature = ""] = match;
      // Compared as text: base64url's last character carries padding bits a decoder ignores.
      const given = Buffer.from(signature);
      const expected = Buffer.from(mac(`${offset}.${cursorScope}`).toString("base64url"));
      if (given.length !== expected.length || !timingSafeEqual(given, expected) || cursorScope !== scope) {
        throw invalid();
      }
      return Number(offset);
    },
  };
}
