import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { TRPCError } from "@trpc/server";
import { beforeAll, describe, expect, it } from "vitest";
import { createDiskStorage } from "../platform/storage.ts";
import { createTestApp } from "../testing.ts";
import { createSearchService, estimateMatches, matchParameters } from "./service.ts";

beforeAll(prepareTestDatabases);

const unlimited = { burst: 10_000, perSecond: 10_000 };

/** The error code a call rejected with. */
async function codeOf(call: Promise<unknown>) {
  const error = await call.then(
    () => null,
    (failure: unknown) => failure,
  );
  if (!(error instanceof TRPCError)) throw new Error(`Expected a TRPCError, got ${String(error)}`);
  return error.code;
}

/** The text of each highlighted range. */
const highlighted = (result: { content: string; highlights: { start: number; end: number }[] }) =>
  result.highlights.map(({ start, end }) => result.content.slice(start, end));

describe.each(testBackends)("chat.search on %s", (backend) => {
  async function setUp() {
    const files = await mkdtemp(join(tmpdir(), "search-files-"));
    const app = await createTestApp(backend, {
      searchLimit: unlimited,
      attachments: { storage: createDiskStorage(files), urlSecret: "search-test-secret-long-enough-for-hmac" },
    });
    const { conversation } = await app.openConversation("sara", "omar");
    const { conversation: other } = await app.openConversation("sara", "lina");
    const { conversation: strangers } = await app.openConversation("stranger", "someone");
    const send = async (from: string, conversationId: string, content: string) =>
      (await app.as(from).chat.sendMessage({ conversationId, content })).messageId;
    /** Uploads a small PDF for each name and sends them in one message, with `content` if given. */
    async function sendFiles(from: string, conversationId: string, names: string[], content?: string) {
      const bytes = Buffer.from("%PDF-1.4\n%%EOF\n");
      const attachmentIds: string[] = [];
      for (const name of names) {
        const upload = await app
          .as(from)
          .chat.createUpload({ conversationId, name, size: bytes.length, mimeType: "application/pdf" });
        const url = new URL(upload.url, "http://localhost");
        const { searchParams } = url;
        await app.services.attachments.receive(
          upload.uploadId,
          searchParams.get("expires"),
          searchParams.get("signature"),
          Readable.from([bytes]),
        );
        attachmentIds.push(upload.uploadId);
      }
      const sent = await app
        .as(from)
        .chat.sendMessage({ conversationId, attachmentIds, ...(content === undefined ? {} : { content }) });
      return sent.messageId;
    }
    return {
      app,
      conversation,
      other,
      strangers,
      send,
      sendFiles,
      async [Symbol.asyncDispose]() {
        await app[Symbol.asyncDispose]();
        await rm(files, { recursive: true, force: true });
      },
    };
  }

  it("finds Arabic whatever the alef, ta marbuta, alef maqsura, tashkeel, tatweel or digits", async () => {
    await using setup = await setUp();
    const { app, conversation, send } = setup;
    const hit = await send("omar", conversation.id, "السعر النهائي إلى الأحد: ٣٥٠ ريال للمدرسة");
    await send("omar", conversation.id, "Something else entirely");
    const sara = app.as("sara");
    for (const query of ["احد", "الي", "350", "مدرسه", "ريـــال", "السِّعر", "الأحد"]) {
      const { results } = await sara.chat.search({ query });
      expect(
        results.map((result) => result.messageId),
        query,
      ).toEqual([hit]);
    }
    const [result] = (await sara.chat.search({ query: "ريـــال ٣٥٠" })).results;
    expect(result && highlighted(result)).toEqual(["٣٥٠", "ريال"]);
    expect(result).toMatchObject({ conversationId: conversation.id, otherParticipant: { id: "omar", name: "omar" } });
    expect(result?.timestamp).toBeInstanceOf(Date);
  });

  it("matches English stems, word prefixes, parts of numbers and prices, and ranks the exact phrase first", async () => {
    await using setup = await setUp();
    const { app, conversation, other, send } = setup;
    const price = await send("omar", conversation.id, "The price is 350SAR, call me on 01001234567");
    const painting = await send("lina", other.id, "I am painting the walls tomorrow");
    const paints = await send("lina", other.id, "Two walls need paint, walls are big");
    const sara = app.as("sara");
    expect((await sara.chat.search({ query: "350" })).results.map((r) => r.messageId)).toEqual([price]);
    // Part of a phone number: found by its sender (its receiver sees the number masked, see below).
    expect((await app.as("omar").chat.search({ query: "0100" })).results.map((r) => r.messageId)).toEqual([price]);
    expect((await sara.chat.search({ query: "prices" })).results.map((r) => r.messageId)).toEqual([price]);
    const walls = (await sara.chat.search({ query: "painting the walls" })).results;
    // Both by their English stems (paint, wall); the one with the phrase as written first.
    expect(walls.map((r) => r.messageId)).toEqual([painting, paints]);
    const paint = (await sara.chat.search({ query: "paint" })).results.map((r) => r.messageId);
    expect(new Set(paint)).toEqual(new Set([painting, paints]));
    const [first] = (await sara.chat.search({ query: "PAINTING" })).results;
    expect(first && highlighted(first)).toEqual(["painting"]);
  });

  it("searches only the caller's conversations, or one of them", async () => {
    await using setup = await setUp();
    const { app, conversation, other, strangers, send } = setup;
    await send("omar", conversation.id, "invoice number one");
    const inOther = await send("lina", other.id, "invoice number two");
    await send("stranger", strangers.id, "invoice number three");
    const sara = app.as("sara");
    expect((await sara.chat.search({ query: "invoice" })).results).toHaveLength(2);
    const scoped = await sara.chat.search({ query: "invoice", conversationId: other.id });
    expect(scoped.results.map((r) => r.messageId)).toEqual([inOther]);
    expect((await app.as("omar").chat.search({ query: "invoice" })).results).toHaveLength(1);
  });

  it("finds a message by its files' names, with its text, in the caller's conversations only", async () => {
    await using setup = await setUp();
    const { app, conversation, other, strangers, sendFiles } = setup;
    const quote = await sendFiles("omar", conversation.id, ["quote-final.pdf"]);
    const plan = await sendFiles("lina", other.id, ["kitchen_layout-v2.pdf", "عرض_السعر.pdf"], "Here is the plan");
    await sendFiles("stranger", strangers.id, ["quote-final.pdf"], "my quote");
    const sara = app.as("sara");
    const search = async (query: string) => (await sara.chat.search({ query })).results;
    const ids = async (query: string) => (await search(query)).map((result) => result.messageId);
    // A word of a name, its stem, a part of it, a short word's prefix; Arabic as written elsewhere.
    for (const query of ["quote", "QUOTES", "final", "uote", "fi", "quote-final.pdf"]) {
      expect(await ids(query), query).toEqual([quote]);
    }
    for (const query of ["layout", "kitchen v2", "السعر", "عرض السعر", "plan kitchen", "here layout"]) {
      expect(await ids(query), query).toEqual([plan]);
    }
    expect(await ids("pdf")).toEqual([plan, quote]);
    // content is the message's text and highlights mark what of the query is in it: none for a
    // message that is only a file, the text's words for one with both.
    const [onlyFile] = await search("quote");
    expect(onlyFile).toMatchObject({ content: "", highlights: [], otherParticipant: { id: "omar" } });
    // files: every name of the message, in order, with what matched in it.
    expect(onlyFile?.files).toEqual([{ name: "quote-final.pdf", highlights: [{ start: 0, end: 5 }] }]);
    const [both] = await search("plan kitchen");
    expect(both && highlighted(both)).toEqual(["plan"]);
    expect(both?.files).toEqual([
      { name: "kitchen_layout-v2.pdf", highlights: [{ start: 0, end: 7 }] },
      { name: "عرض_السعر.pdf", highlights: [] },
    ]);
    expect((await search("here")).map((result) => result.files)).toEqual([
      [
        { name: "kitchen_layout-v2.pdf", highlights: [] },
        { name: "عرض_السعر.pdf", highlights: [] },
      ],
    ]);
    const theirs = await app.as("stranger").chat.search({ query: "quote" });
    expect(theirs.results.map((result) => result.content)).toEqual(["my quote"]);
  });

  it("does not find deleted messages, whose text moderators keep", async () => {
    await using setup = await setUp();
    const { app, conversation, send } = setup;
    const kept = await send("omar", conversation.id, "the invoice is ready");
    const deleted = await send("omar", conversation.id, "the invoice with my bank details");
    await app.as("omar").chat.deleteMessage({ messageId: deleted });
    const { results } = await app.as("sara").chat.search({ query: "invoice" });
    expect(results.map((result) => result.messageId)).toEqual([kept]);
    expect((await app.as("sara").chat.search({ query: "bank" })).results).toEqual([]);
  });

  it("finds the same from the search indexes as by reading the caller's messages one by one", async () => {
    await using setup = await setUp();
    const { app, conversation, other, strangers, send, sendFiles } = setup;
    await send("omar", conversation.id, "السعر النهائي إلى الأحد: ٣٥٠ ريال");
    await send("omar", conversation.id, "The price is 350SAR, call me on 01001234567");
    await send("lina", other.id, "I am painting the walls tomorrow");
    await send("lina", other.id, "Two walls need paint, walls are big");
    await sendFiles("lina", other.id, ["quote-final.pdf"], "the walls");
    await send("stranger", strangers.id, "price 350 paint walls quote");
    const deps = {
      db: app.db,
      assertParticipant: app.services.chat.conversations.assertParticipant,
      cursorKey: new Uint8Array(32),
    };
    const byScan = createSearchService({ ...deps, strategy: "conversations" });
    const byIndex = createSearchService({ ...deps, strategy: "indexes" });
    const queries = ["350", "0100", "prices", "painting the walls", "walls", "quote walls", "الى", "مدرسه ريال", "pa"];
    for (const query of queries) {
      for (const conversationId of [undefined, other.id]) {
        const expected = await byScan.search("sara", { query, conversationId, limit: 50 });
        const found = await byIndex.search("sara", { query, conversationId, limit: 50 });
        expect(found, `${query} in ${conversationId ?? "all"}`).toEqual(expected);
      }
    }
  });

  it("reads the planner's estimate of the matches, which decides for a caller with many messages", async () => {
    await using setup = await setUp();
    const { app, conversation, send } = setup;
    await send("omar", conversation.id, "The price is 350SAR");
    for (const terms of [["price"], ["350", "sar"], ["pa"]]) {
      const estimate = await estimateMatches(app.db, matchParameters(terms));
      expect(Number.isFinite(estimate) && estimate >= 0, terms.join(" ")).toBe(true);
    }
  });

  it("shows a masked message masked, and finds nothing by the digits hidden from its receiver", async () => {
    await using t = await setUp();
    await t.send("omar", t.conversation.id, "Call me on 01001234567 about the quote");
    const sara = t.app.as("sara");
    const [hit] = (await sara.chat.search({ query: "quote" })).results;
    expect(hit?.content).not.toContain("01001234567");
    expect(hit?.content).not.toMatch(/\d{4}/);
    expect(hit && highlighted(hit)).toEqual(["quote"]);
    for (const query of ["01001234567", "0100123", "1234567"]) {
      expect((await sara.chat.search({ query })).results).toEqual([]);
    }
    // Its sender sees their own words.
    const [own] = (await t.app.as("omar").chat.search({ query: "01001234567" })).results;
    expect(own?.content).toBe("Call me on 01001234567 about the quote");
  });

  it("refuses a conversation the caller is not in, the same way whether it exists or not (FORBIDDEN, no count)", async () => {
    await using setup = await setUp();
    const { app, strangers, send } = setup;
    await send("stranger", strangers.id, "secret plan");
    const sara = app.as("sara");
    const theirs = sara.chat.search({ query: "secret", conversationId: strangers.id });
    const missing = sara.chat.search({ query: "secret", conversationId: "no-such-conversation" });
    const [a, b] = await Promise.all([theirs.catch((e: unknown) => e), missing.catch((e: unknown) => e)]);
    expect(a).toBeInstanceOf(TRPCError);
    expect((a as TRPCError).code).toBe("FORBIDDEN");
    expect((a as TRPCError).message).toBe((b as TRPCError).message);
    expect((b as TRPCError).code).toBe("FORBIDDEN");
    expect((a as TRPCError).message).not.toMatch(/\d/);
  });

  it("pages with a cursor, and refuses a tampered one or one from another search", async () => {
    await using setup = await setUp();
    const { app, conversation, send } = setup;
    const sent: string[] = [];
    for (let n = 0; n < 5; n++) sent.push(await send("omar", conversation.id, `quote number ${n}`));
    const sara = app.as("sara");
    const first = await sara.chat.search({ query: "quote", limit: 2 });
    expect(first.results).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const cursor = first.nextCursor ?? "";
    const second = await sara.chat.search({ query: "quote", limit: 2, cursor });
    const third = await sara.chat.search({ query: "quote", limit: 2, cursor: second.nextCursor ?? "" });
    expect(third.nextCursor).toBeNull();
    const all = [...first.results, ...second.results, ...third.results].map((r) => r.messageId);
    expect(new Set(all)).toEqual(new Set(sent));

    const changed = cursor.replace(/^\d+/, "4");
    expect(await codeOf(sara.chat.search({ query: "quote", limit: 2, cursor: changed }))).toBe("BAD_REQUEST");
    // Every other last character, including those a base64 decoder would read as the same bytes.
    for (const last of "ABCD".replace(cursor.at(-1) ?? "", "")) {
      const flipped = `${cursor.slice(0, -1)}${last}`;
      expect(await codeOf(sara.chat.search({ query: "quote", limit: 2, cursor: flipped }))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(sara.chat.search({ query: "number", limit: 2, cursor }))).toBe("BAD_REQUEST");
    expect(await codeOf(app.as("omar").chat.search({ query: "quote", limit: 2, cursor }))).toBe("BAD_REQUEST");
    expect(await codeOf(sara.chat.search({ query: "quote", cursor: "not a cursor" }))).toBe("BAD_REQUEST");
  });

  describe("bad input", () => {
    it.each([
      ["an empty query", ""],
      ["a blank query", "   "],
      ["a 1-character query", "a"],
      ["a 10 KB query", "price ".repeat(1_700)],
      ["a lone surrogate", "price \ud800"],
      ["control characters", "price\u0000"],
      ["only tsquery syntax", "& | ! : * ( ) '"],
    ])("refuses %s with BAD_REQUEST", async (_name, query) => {
      await using setup = await setUp();
      expect(await codeOf(setup.app.as("sara").chat.search({ query }))).toBe("BAD_REQUEST");
    });

    it("bounds limit to 1–50", async () => {
      await using setup = await setUp();
      const sara = setup.app.as("sara");
      expect(await codeOf(sara.chat.search({ query: "hello", limit: 0 }))).toBe("BAD_REQUEST");
      expect(await codeOf(sara.chat.search({ query: "hello", limit: 51 }))).toBe("BAD_REQUEST");
    });

    it("takes tsquery syntax, SQL and RTL overrides as plain text", async () => {
      await using setup = await setUp();
      const { app, conversation, send } = setup;
      const hit = await send("omar", conversation.id, "price (350) & tax! it's ok");
      await send("omar", conversation.id, "nothing here");
      const sara = app.as("sara");
      const ids = async (query: string) => (await sara.chat.search({ query })).results.map((r) => r.messageId);
      expect(await ids("price & (350) | !tax:* 'it''s")).toEqual([hit]);
      expect(await ids('price\'; DROP TABLE "Message"; --')).toEqual([]);
      expect(await ids("\u202Eprice\u202C \u2066350\u2069")).toEqual([hit]);
      expect(await ids("%_\\ price")).toEqual([hit]);
      expect(await app.countSent()).toBe(2);
    });

    it("is rate-limited per user", async () => {
      await using app = await createTestApp(backend, { searchLimit: { burst: 2, perSecond: 0.001 } });
      await app.as("sara").chat.search({ query: "one" });
      await app.as("sara").chat.search({ query: "two" });
      expect(await codeOf(app.as("sara").chat.search({ query: "three" }))).toBe("TOO_MANY_REQUESTS");
      await app.as("omar").chat.search({ query: "four" });
    });
  });

  it("opens the page around a hit with chat.messages({ around })", async () => {
    await using setup = await setUp();
    const { app, conversation, send } = setup;
    const ids: string[] = [];
    for (let n = 1; n <= 30; n++) ids.push(await send("omar", conversation.id, `message ${n}`));
    const target = ids[9] ?? "";
    const page = await app.as("sara").chat.messages({ conversationId: conversation.id, around: target, limit: 10 });
    expect(page.messages.map((m) => m.content)).toEqual(
      [6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((n) => `message ${n}`),
    );
    const older = await app
      .as("sara")
      .chat.messages({ conversationId: conversation.id, before: page.nextCursor ?? "", limit: 10 });
    expect(older.messages.at(-1)?.content).toBe("message 5");
    const sara = app.as("sara");
    expect(await codeOf(sara.chat.messages({ conversationId: conversation.id, around: "nope" }))).toBe("BAD_REQUEST");
    expect(await codeOf(sara.chat.messages({ conversationId: conversation.id, around: target, before: target }))).toBe(
      "BAD_REQUEST",
    );
  });
});
