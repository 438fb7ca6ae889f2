/**
 * `pnpm tsx bench/search.ts [--messages N] [--conversations N] [--full] [--keep] [--schema NAME]`:
 * seeds messages of mixed Arabic and English (some with files) into a schema of its own on
 * PostgreSQL, then measures chat.search for one user's conversations (p50/p95 per kind of
 * query), the search indexes' size, and exporting one conversation of --export-messages messages
 * (time, peak RSS). `--keep` keeps the schema, `--schema` measures a kept one again without
 * seeding. Not part of CI; see docs/search.md.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createMemoryBus, createServices } from "@naafe/api";
import { openDatabase } from "@naafe/db";
import pg from "pg";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "20000" },
    conversations: { type: "string" },
    "export-messages": { type: "string", default: "100000" },
    queries: { type: "string", default: "50" },
    full: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    schema: { type: "string" },
  },
});
const url = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/test";
const messages = values.full ? 1_000_000 : Number(values.messages);
const conversations = values.full ? 10_000 : Number(values.conversations ?? Math.max(1, Math.round(messages / 100)));
const exportMessages = Number(values["export-messages"]);
const queriesPerKind = Number(values.queries);
// --schema: one an earlier run seeded and kept (--keep), with the same sizes; not seeded again.
const reused = values.schema;
const schema = reused ?? `bench_search_${randomBytes(4).toString("hex")}`;
// Each user takes part in about 20 conversations, as seeker or provider.
const users = Math.max(2, Math.round(conversations / 10));

const say = (text: string) => console.log(text);
const load = () =>
  `load average ${loadavg()
    .map((n) => n.toFixed(1))
    .join(" ")}`;
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

say(
  `${reused ? "Reusing" : "Seeding"} ${messages.toLocaleString()} messages in ${conversations.toLocaleString()} conversations (schema ${schema})`,
);
const db = await openDatabase({ url, schema });
const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema},public` });
await admin.connect();

const english = [
  "Hi, are you available tomorrow morning?",
  "The price is 350 SAR including materials",
  "Can you send me a photo of the kitchen sink?",
  "I will be there at 5 pm, call me on 0100 123 4567",
  "Thanks, the painting looks great",
  "Please bring the ladder and extra paint",
  "We agreed on 1200 for the whole apartment",
  "Running a bit late, traffic is heavy",
];
const arabic = [
  "السلام عليكم، هل أنت متاح غداً صباحاً؟",
  "السعر ٣٥٠ ريال شامل المواد",
  "ممكن ترسل لي صورة للمطبخ؟",
  "سأصل الساعة ٥ مساءً إن شاء الله",
  "شكراً، الدهان ممتاز جداً",
  "اتفقنا على ١٢٠٠ للشقة كاملة",
  "المدرسة قريبة من البيت، إلى اللقاء",
  "أحتاج سباك لإصلاح الحنفية",
];
const phrases = [...english, ...arabic];
// Names and rarer words, so that not every word is in every sixteenth message.
const syllables = ["ka", "mo", "ra", "li", "sa", "tu", "na", "ha", "ع", "م", "ر", "ن", "س", "ل", "ي", "و"];
const rareWords = Array.from({ length: 2_000 }, (_, index) => {
  let word = "";
  for (let n = index; word.length < 6; n = Math.floor(n / syllables.length) + word.length + 3) {
    word += syllables[n % syllables.length];
  }
  return `${word}${index % 7 === 0 ? index : ""}`;
});

async function seed() {
  const started = performance.now();
  // Seeded without the search columns and their indexes, which are then built as the migration does.
  await admin.query(`ALTER TABLE "Message" DROP COLUMN "searchVector", DROP COLUMN "searchText"`);
  await admin.query(
    `INSERT INTO "User" ("id", "name", "updatedAt") SELECT 'user-' || i, 'User ' || i, now() FROM generate_series(0, $1 - 1) i`,
    [users],
  );
  await admin.query(
    `INSERT INTO "JobRequest" ("id", "seekerId", "title", "status", "updatedAt")
     SELECT 'job-' || i, 'user-' || (i % $2), 'Job ' || i, 'assigned', now() FROM generate_series(0, $1) i`,
    [conversations, users],
  );
  // Conversation i: seeker user (i % users), provider user ((i * 7 + 1) % users); conversation
  // $1 (the last) is the long one exported, between two users of their own.
  await admin.query(
    `INSERT INTO "User" ("id", "name", "updatedAt") VALUES ('long-a', 'Long A', now()), ('long-b', 'Long B', now())`,
  );
  await admin.query(
    `INSERT INTO "Conversation" ("id", "jobRequestId", "participantSeeker", "participantProvider", "messageCount", "updatedAt")
     SELECT 'conv-' || i, 'job-' || i,
       CASE WHEN i = $1 THEN 'long-a' ELSE 'user-' || (i % $2) END,
       CASE WHEN i = $1 THEN 'long-b' ELSE 'user-' || ((i * 7 + 1) % $2) END,
       CASE WHEN i = $1 THEN $4 ELSE $3 / $1 END, now()
     FROM generate_series(0, $1) i`,
    [conversations, users, messages, exportMessages],
  );
  // Rows go in as a live server writes them: in time order, every conversation's next message
  // after all conversations' previous ones, so one conversation's messages are spread over the
  // table rather than side by side. Message s of conversation c is sent s hours before the
  // last, a few seconds apart per conversation. Every 40th message carries a file (every 80th
  // has no text): one Attachment row, its name from `fileNames`.
  const insertMessages = `
    INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "type", "timestamp", "createdAt", "updatedAt")
    SELECT 'msg-' || c || '-' || s, 'conv-' || c, s,
      CASE WHEN s % 2 = 0 THEN 'user-' || (c % $3) ELSE 'user-' || ((c * 7 + 1) % $3) END,
      CASE WHEN s % 2 = 1 THEN 'user-' || (c % $3) ELSE 'user-' || ((c * 7 + 1) % $3) END,
      CASE WHEN s % 80 = 0 THEN '' ELSE
        (SELECT string_agg(($4::text[])[1 + floor(random() * cardinality($4::text[]))::int], ' ')
           FROM generate_series(0, (s * 0) + floor(random() * 2)::int))
          || ' ' || ($7::text[])[1 + floor(random() * cardinality($7::text[]))::int]
          || ' ' || floor(random() * 100000)::int
      END,
      (CASE WHEN s % 40 = 0 THEN 'file' ELSE 'text' END)::"MessageType",
      now() - (($6::int - s) || ' hours')::interval - ((c % 3600) || ' seconds')::interval, now(), now()
    FROM generate_series($1::int, $2::int) s, generate_series(0, $5::int - 1) c
    ORDER BY s, c`;
  const perConversation = Math.max(1, Math.floor(messages / conversations));
  for (let from = 1; from <= perConversation; from += 10) {
    const to = Math.min(from + 9, perConversation);
    await admin.query(insertMessages, [from, to, users, phrases, conversations, perConversation, rareWords]);
  }
  await admin.query(
    `INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "timestamp", "createdAt", "updatedAt")
     SELECT 'long-' || s, 'conv-' || $1, s, 'long-a', 'long-b',
       ($2::text[])[1 + s % cardinality($2::text[])] || ' ' || s, now() - (($3 - s) || ' seconds')::interval, now(), now()
     FROM generate_series(1, $3::int) s`,
    [conversations, phrases, exportMessages],
  );
  const fileNames = [
    "quote-final.pdf",
    "invoice_2024-03.pdf",
    "kitchen-plan.png",
    "IMG_20240311_0931.jpg",
    "contract signed.docx",
    "صورة المطبخ.jpg",
    "عرض_السعر.pdf",
    "فاتورة-الشهر.pdf",
  ];
  await admin.query(
    `INSERT INTO "Attachment" ("id", "uploaderId", "conversationId", "name", "mimeType", "size", "storageKey", "status", "messageId", "createdAt", "expiresAt")
     SELECT 'file-' || m."id", m."senderId", m."conversationId", ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int],
       'application/pdf', 1000, 'uploads/' || m."id", 'ready', m."id", m."timestamp", m."timestamp" + interval '1 hour'
     FROM "Message" m WHERE m."type" = 'file'`,
    [fileNames],
  );
  const before = await admin.query<{ size: string }>(`SELECT pg_size_pretty(pg_relation_size('"Message"')) AS size`);
  say(`  rows inserted in ${seconds(started)}; size of Message without the search columns: ${before.rows[0]?.size}`);
  const indexing = performance.now();
  // The migration's own statements, as prisma/migrations/*_message_search creates them: both
  // columns in one ALTER (one rewrite of the table), then the indexes, with the memory an
  // operator would give a one-off index build.
  await admin.query(`SET maintenance_work_mem = '512MB'`);
  await admin.query(
    `ALTER TABLE "Message"
       ADD COLUMN "searchVector" tsvector GENERATED ALWAYS AS (naafe_search_vector("content")) STORED,
       ADD COLUMN "searchText" text GENERATED ALWAYS AS (naafe_search_normalize("content")) STORED`,
  );
  say(`  search columns computed in ${seconds(indexing)}`);
  await admin.query(`CREATE INDEX "Message_search_vector_idx" ON "Message" USING gin ("searchVector")`);
  await admin.query(
    `CREATE INDEX "Message_search_trigram_idx" ON "Message" USING gin ("searchText" public.gin_trgm_ops)`,
  );
  // As autovacuum would leave them; named, so that other schemas in the database are left alone.
  await admin.query(`VACUUM ANALYZE "Message", "Attachment", "Conversation", "User"`);
  say(`  search columns and indexes built in ${seconds(indexing)}`);
}
if (!reused) await seed();

const sizes = await admin.query<{ name: string; size: string }>(
  `SELECT relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size FROM pg_class c
   JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND relname IN ('Message', 'Message_search_vector_idx', 'Message_search_trigram_idx',
     'Message_conversationId_seq_key', 'Attachment', 'Attachment_conversationId_messageId_idx')`,
  [schema],
);
say(`  (the Message size includes the stored searchVector and searchText columns)`);
for (const row of sizes.rows) say(`  size of ${row.name}: ${row.size}`);

const services = createServices({
  db,
  bus: createMemoryBus(),
  auth: { secret: "bench-secret-that-is-long-enough-for-hs256" },
  searchLimit: { burst: 1e9, perSecond: 1e9 },
});
const kinds: Record<string, string[]> = {
  "English word": ["price", "ladder", "painting", "kitchen", "traffic"],
  "Arabic word, other spelling": ["المطبخ", "الى", "مدرسه", "اتفقنا", "سباك"],
  "number or price": ["350", "0100", "1200", "٣٥٠"],
  "two words": ["price 350", "السعر ريال", "photo kitchen"],
  "part of a word": ["paint", "حنفي", "availab"],
  "a name (rare word)": rareWords.filter((_, index) => index % 97 === 0).slice(0, 10),
  "a file name's word": ["quote", "invoice", "المطبخ", "فاتوره", "contract"],
};
/** p50 and p95 of `times`, and how many of them failed. */
function percentiles(times: number[], failures: number) {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1);
  return `p50 ${pick(0.5)} ms   p95 ${pick(0.95)} ms${failures ? `   (${failures} failed)` : ""}`;
}
/** Times a search; one that fails (the pool's 5 s query timeout) counts as its time. */
async function timed(userId: string, query: string, times: number[]) {
  const at = performance.now();
  const failed = await services.search.search(userId, { query, limit: 20 }).then(
    () => 0,
    () => 1,
  );
  times.push(performance.now() - at);
  return failed;
}

// A server's connections are open and have planned before: one search, not counted, does that.
await services.search.search("user-0", { query: "warm up", limit: 20 });
say(
  `\nchat.search for one user's ~${Math.round((conversations * 2) / users)} conversations (${queriesPerKind} searches per kind, ${load()}):`,
);
// Each user's first search reads their messages into PostgreSQL's buffers (from the operating
// system's cache here): shown apart, so that the kinds below compare searches alike.
const first: number[] = [];
let firstFailures = 0;
for (let n = 0; n < Math.min(users, queriesPerKind); n++) firstFailures += await timed(`user-${n}`, "hello", first);
say(`  ${"a user's first search".padEnd(30)} ${percentiles(first, firstFailures)}`);
for (const [kind, queries] of Object.entries(kinds)) {
  const times: number[] = [];
  let failures = 0;
  for (let n = 0; n < queriesPerKind; n++) {
    failures += await timed(`user-${n % users}`, queries[n % queries.length] ?? "price", times);
  }
  say(`  ${kind.padEnd(30)} ${percentiles(times, failures)}`);
}

// The worst case: a user with one very long conversation, for a rare word and a common one.
for (const query of [String(exportMessages - 7), "price"]) {
  const at = performance.now();
  const outcome = await services.search.search("long-a", { query, limit: 20 }).then(
    () => `${(performance.now() - at).toFixed(0)} ms`,
    (error: unknown) => `failed after ${(performance.now() - at).toFixed(0)} ms (${String(error).slice(0, 60)})`,
  );
  say(`  a user with a ${exportMessages.toLocaleString()}-message conversation, "${query}": ${outcome}`);
}

say(`  (${load()})`);

const exportable = await services.exports.exportable(`conv-${conversations}`, "long-a");
if (!exportable) throw new Error("The long conversation is missing.");
global.gc?.();
const rssBefore = process.memoryUsage.rss();
let rssPeak = rssBefore;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 20);
const exporting = performance.now();
let bytes = 0;
for await (const chunk of services.exports.transcript(exportable, "jsonl", "long-a")) bytes += Buffer.byteLength(chunk);
clearInterval(sampler);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
say(
  `\nExport of ${exportMessages.toLocaleString()} messages as JSONL: ${seconds(exporting)}, ${mb(bytes)} written, RSS ${mb(rssBefore)} before, peak ${mb(rssPeak)}`,
);

await services.presence.close();
await db.close();
if (!values.keep && !reused) await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
