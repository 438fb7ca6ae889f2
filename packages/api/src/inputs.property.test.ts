/**
 * Property-based tests of every procedure's input: random and hostile values (huge strings,
 * unicode edge cases, prototype-pollution keys, numbers out of range, wrong types, extra keys)
 * give a typed tRPC error or a valid result, never an INTERNAL_SERVER_ERROR, a crash or garbage
 * in the database. A table below must name every procedure of the router, so a new procedure
 * without a property here fails the suite.
 */
import { type Backend, testBackends } from "@naafe/db/testing";
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MESSAGE_MAX_LENGTH } from "./chat/schemas.ts";
import { NAAFE } from "./chat/system-messages.ts";
import { moderatorToken } from "./moderation/test-helpers.ts";
import { appRouter } from "./root.ts";
import { hasDirectionOverride, hasVisibleText } from "./schemas.ts";
import { createTestApp, TEST_SECRET } from "./testing.ts";

const NUM_RUNS = 40;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/** Every error a hostile input may earn; anything else (INTERNAL_SERVER_ERROR above all) is a bug. */
const TYPED_CODES = new Set(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "TOO_MANY_REQUESTS"]);

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

/** Characters that break naive code: controls, bidi overrides, zero-width, lone surrogates, ZWJ emoji. */
const nastyChar = fc.constantFrom(
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009f",
  "\r",
  "\r\n",
  "\n",
  "\t",
  " ",
  "\u00a0",
  "\u1680",
  "\u2028",
  "\u2029",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202e",
  "\u2066",
  "\u2069",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "e\u0301",
  "\u0627\u0644\u0633\u0644\u0627\u0645",
  "\u05e9\u05dc\u05d5\u05dd",
  "<script>alert(1)</script>",
  '\'; DROP TABLE "Message"; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder is the hostile value.
  "${process.exit()}",
  "%s%n",
  "\\",
  "__proto__",
);

/** Any UTF-16 code unit, lone surrogates included (what a buggy client or a raw socket can send). */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

const hugeString = fc.constantFrom(
  "a".repeat(MESSAGE_MAX_LENGTH),
  "a".repeat(MESSAGE_MAX_LENGTH + 1),
  "😀".repeat(MESSAGE_MAX_LENGTH),
  "😀".repeat(MESSAGE_MAX_LENGTH + 1),
  "e\u0301".repeat(MESSAGE_MAX_LENGTH / 2),
  "e\u0301".repeat(MESSAGE_MAX_LENGTH),
  "\u200b".repeat(MESSAGE_MAX_LENGTH + 5),
  "\ud800".repeat(MESSAGE_MAX_LENGTH),
  `${" ".repeat(50_000)}ok${"\n".repeat(50_000)}`,
  "\r\n".repeat(MESSAGE_MAX_LENGTH),
  "x".repeat(1_000_000),
);

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 50 }),
  fc.string({ unit: anyCodeUnit, maxLength: 50 }),
  fc.array(nastyChar, { maxLength: 12 }).map((parts) => parts.join("")),
  fc.tuple(fc.string({ minLength: 1 }), nastyChar, fc.string()).map(([a, b, c]) => a + b + c),
  hugeString,
);

const hostileNumber = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    0,
    -1,
    1,
    0.5,
    0.005,
    0.1 + 0.2,
    5e-324,
    2 ** 31,
    2 ** 53 + 2,
    1e308,
    -1e308,
    100,
    101,
    1_000_000,
    1_000_001,
    1_000_000_000,
    1_000_000_000.01,
  ),
  fc.integer(),
  fc.double(),
);

/** Objects crafted to pollute prototypes if anything merges them naively. */
const pollutingObject = fc.constantFrom(
  () => JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown,
  () => ({ constructor: { prototype: { polluted: "yes" } } }),
  () => JSON.parse('{"__proto__": {"toString": "boom", "polluted": "yes"}, "constructor": {"name": "x"}}') as unknown,
  () => Object.assign(Object.create(null) as object, { polluted: "yes" }),
  () => ({ toString: "not a function", valueOf: 42 }),
  // A non-function `then` is exactly what must not be mistaken for a promise.
  // biome-ignore lint/suspicious/noThenProperty: the hostile shape under test.
  () => ({ then: "not a function" }),
);

const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, [], {}, Symbol("x")),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constant(new Map([["a", 1]])),
  pollutingObject.map((make) => make()),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, wrongType);

/** Extra keys (own properties, `__proto__` included) to merge under a valid-looking input. */
const extraKeys = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "toString", "then", "polluted"), fc.string()),
      hostileValue,
    ),
    { maxLength: 4 },
  )
  // fromEntries defines own properties, so `__proto__` stays a key instead of swapping the prototype.
  .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

/** A field that is usually one of `valid`, sometimes hostile, sometimes left out. */
function field(valid: fc.Arbitrary<unknown>) {
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: hostileValue, weight: 3 }, fc.constant(undefined));
}

/** An input object built from fields, with hostile extra keys, or now and then not an object at all. */
function inputOf(fields: Record<string, fc.Arbitrary<unknown>>) {
  const shaped = fc.tuple(fc.record(fields, { requiredKeys: [] }), extraKeys).map(([known, extra]) => {
    const input: Record<string, unknown> = { ...extra };
    for (const [key, value] of Object.entries(known)) if (value !== undefined) input[key] = value;
    return input;
  });
  return fc.oneof({ arbitrary: shaped, weight: 5 }, { arbitrary: hostileValue, weight: 1 });
}

// ---------------------------------------------------------------------------------------------
// Calling procedures by path
// ---------------------------------------------------------------------------------------------

type AnyProcedure = (input?: unknown) => Promise<unknown>;
type ProcedureType = "query" | "mutation" | "subscription";

/** Every procedure of the router and its type, read from the router itself. */
function routerProcedures(): Map<string, ProcedureType> {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } }>;
  return new Map(Object.entries(procedures).map(([path, procedure]) => [path, procedure._def.type]));
}

function procedureAt(caller: unknown, path: string): AnyProcedure {
  let target = caller as Record<string, unknown>;
  for (const part of path.split(".")) target = target[part] as Record<string, unknown>;
  return target as unknown as AnyProcedure;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: TRPCError };

/**
 * Calls `path` with `input` and classifies the outcome; anything that is not a result or a
 * typed TRPCError fails the property. Subscriptions are started, then stopped again.
 */
async function call(app: TestApp, userId: string, path: string, type: ProcedureType, input: unknown) {
  const controller = new AbortController();
  let outcome: Outcome;
  try {
    const caller =
      userId === "moderator"
        ? app.as(null, { token: moderatorToken(), signal: controller.signal })
        : app.as(userId, { signal: controller.signal });
    const value = await procedureAt(caller, path)(input);
    outcome = { ok: true, value };
    if (type === "subscription") {
      controller.abort();
      await (value as AsyncIterable<unknown>)[Symbol.asyncIterator]().return?.();
    }
  } catch (error) {
    controller.abort();
    if (!(error instanceof TRPCError)) throw new Error(`${path} threw a non-tRPC error`, { cause: error });
    if (!TYPED_CODES.has(error.code)) {
      throw new Error(`${path} answered ${error.code}: ${error.message} (cause: ${String(error.cause)})`, {
        cause: error,
      });
    }
    outcome = { ok: false, error };
  }
  expect(Object.prototype).not.toHaveProperty("polluted");
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// What is stored must be well-formed
// ---------------------------------------------------------------------------------------------

function isWellFormedMessage(content: string) {
  const length = [...content].length;
  return (
    content.isWellFormed() &&
    length >= 1 &&
    length <= MESSAGE_MAX_LENGTH &&
    content === content.trim() &&
    !FORBIDDEN_CONTROL.test(content) &&
    !content.includes("\r\n") &&
    hasVisibleText(content) &&
    !hasDirectionOverride(content)
  );
}

/** Every stored message is well-formed, and every conversation's counters match its messages. */
async function auditDatabase(app: TestApp) {
  const prisma = app.db.prisma;
  const messages = await prisma.message.findMany({ orderBy: [{ conversationId: "asc" }, { seq: "asc" }] });
  for (const message of messages) {
    expect(isWellFormedMessage(message.content), `stored message ${JSON.stringify(message.content)}`).toBe(true);
  }
  for (const conversation of await prisma.conversation.findMany()) {
    const own = messages.filter((message) => message.conversationId === conversation.id);
    const unread = (userId: string) => own.filter((message) => message.receiverId === userId && !message.read).length;
    expect(conversation.messageCount).toBe(own.length);
    expect(own.map((message) => message.seq)).toEqual(own.map((_, index) => index + 1));
    expect(conversation.unreadCountSeeker).toBe(unread(conversation.participantSeeker));
    expect(conversation.unreadCountProvider).toBe(unread(conversation.participantProvider));
    expect(conversation.lastMessageContent).toBe(own.at(-1)?.content ?? null);
    for (const message of own) {
      if (message.senderId === NAAFE) {
        // Naafe's notices (every conversation opens with one) are for both participants, unread for nobody.
        expect(message).toMatchObject({ type: "system", receiverId: NAAFE });
        continue;
      }
      expect([conversation.participantSeeker, conversation.participantProvider]).toContain(message.senderId);
      expect([conversation.participantSeeker, conversation.participantProvider]).toContain(message.receiverId);
      expect(message.senderId).not.toBe(message.receiverId);
    }
  }
  for (const job of await prisma.jobRequest.findMany()) {
    const length = [...job.title].length;
    expect(job.title.isWellFormed() && length >= 3 && length <= 200, `stored title ${JSON.stringify(job.title)}`).toBe(
      true,
    );
  }
  for (const offer of await prisma.offer.findMany()) {
    if (offer.price === null) continue;
    const price = offer.price.toNumber();
    expect(Number.isFinite(price) && price >= 0 && price <= 1_000_000_000).toBe(true);
  }
}

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

describe.each(testBackends)("procedure inputs on %s", (backend: Backend) => {
  let app: TestApp;
  let ids: {
    conversationId: string;
    jobRequestId: string;
    offerId: string;
    openJobRequestId: string;
    pendingOfferId: string;
    messageId: string;
  };

  beforeAll(async () => {
    app = await createTestApp(backend);
    const { conversation, job, offer } = await app.openConversation("seeker", "provider");
    const openJob = await app.as("seeker").jobRequest.create({ title: "Paint the fence" });
    const pending = await app.as("provider").offer.create({ jobRequestId: openJob.id, price: 10 });
    const sent = await app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "hello" });
    await app.as("bystander").jobRequest.create({ title: "Someone else's job" });
    ids = {
      conversationId: conversation.id,
      jobRequestId: job.id,
      offerId: offer.id,
      openJobRequestId: openJob.id,
      pendingOfferId: pending.id,
      messageId: sent.messageId,
    };
  });

  afterAll(async () => {
    await app?.[Symbol.asyncDispose]();
  });

  /** Real ids, so the happy path is exercised too, next to hostile ones. */
  const someId = () =>
    fc.constantFrom(
      ids.conversationId,
      ids.jobRequestId,
      ids.offerId,
      ids.openJobRequestId,
      ids.pendingOfferId,
      ids.messageId,
      ` ${ids.conversationId} `,
      "00000000-0000-0000-0000-000000000000",
    );

  /** Inputs per procedure. Adding a procedure to the router without adding it here fails the suite. */
  const inputs: Record<string, () => fc.Arbitrary<unknown>> = {
    "auth.me": () => hostileValue,
    "auth.demoUsers": () => hostileValue,
    "auth.renew": () => inputOf({ token: field(fc.string({ maxLength: 9_000 })) }),
    "auth.demoSignIn": () => inputOf({ userId: field(fc.constantFrom("seeker", "demo-seeker-sara")) }),
    "chat.conversations": () =>
      fc.oneof(fc.constant(undefined), inputOf({ page: field(fc.nat({ max: 5 })), limit: field(fc.nat(101)) })),
    "chat.conversation": () => inputOf({ conversationId: field(someId()) }),
    "chat.messages": () =>
      inputOf({
        conversationId: field(someId()),
        page: field(fc.integer({ min: 1, max: 3 })),
        limit: field(fc.integer({ min: 1, max: 100 })),
        before: field(someId()),
        around: field(someId()),
      }),
    "chat.conversationByJobRequest": () => inputOf({ jobRequestId: field(someId()) }),
    "chat.unreadCount": () => hostileValue,
    "chat.sendMessage": () =>
      inputOf({
        conversationId: field(someId()),
        receiverId: field(fc.constantFrom("provider", "seeker", "stranger")),
        content: field(fc.oneof(fc.string({ minLength: 1 }), hostileString)),
        clientMessageId: field(fc.oneof(fc.uuid(), fc.constantFrom("retry-1", "retry-2"))),
        attachmentIds: field(fc.oneof(fc.array(someId(), { maxLength: 12 }), hostileValue)),
      }),
    "chat.createUpload": () =>
      inputOf({
        conversationId: field(someId()),
        name: field(fc.oneof(fc.string(), hostileString, fc.constantFrom("../../x.pdf", "a\u202Eb.exe", "photo.jpg"))),
        size: field(fc.oneof(fc.integer({ min: -1, max: 30 * 1024 * 1024 }), fc.double())),
        mimeType: field(
          fc.oneof(fc.string(), hostileString, fc.constantFrom("image/jpeg", "application/pdf", "text/html")),
        ),
      }),
    "chat.markRead": () => inputOf({ conversationId: field(someId()) }),
    "chat.typing": () => inputOf({ conversationId: field(someId()), isTyping: field(fc.boolean()) }),
    "chat.onMessage": () => inputOf({ conversationId: field(someId()), lastEventId: field(someId()) }),
    "chat.onMessagesRead": () => inputOf({ conversationId: field(someId()) }),
    "chat.onMessagesDelivered": () => inputOf({ conversationId: field(someId()) }),
    "chat.onTyping": () => inputOf({ conversationId: field(someId()) }),
    "chat.onPresence": () => inputOf({ conversationId: field(someId()) }),
    "chat.onInbox": () => hostileValue,
    "chat.search": () =>
      inputOf({
        query: field(fc.oneof(fc.string(), hostileString, fc.constantFrom("hello", "350", "أهلا & (x) | !y:*"))),
        conversationId: field(someId()),
        cursor: field(fc.oneof(fc.string(), fc.constantFrom("0.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"))),
        limit: field(fc.integer({ min: -1, max: 60 })),
      }),
    "jobRequest.create": () => inputOf({ title: field(fc.string({ minLength: 3, maxLength: 200 })) }),
    "jobRequest.list": () => hostileValue,
    "offer.create": () =>
      inputOf({
        jobRequestId: field(fc.constant(ids.openJobRequestId)),
        price: field(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constant(12.34))),
      }),
    "offer.accept": () => inputOf({ offerId: field(someId()) }),
    // Not each other: a block between seeker and provider would refuse the sends of the properties below.
    "chat.block": () => inputOf({ userId: field(fc.constantFrom("bystander", "stranger", "nobody")) }),
    "chat.unblock": () => inputOf({ userId: field(fc.constantFrom("bystander", "stranger", "nobody")) }),
    "chat.report": () =>
      inputOf({
        conversationId: field(someId()),
        messageId: field(someId()),
        reason: field(fc.constantFrom("spam", "scam", "other", "nonsense")),
        note: field(fc.oneof(fc.string({ maxLength: 50 }), hostileString)),
      }),
    "chat.shareContact": () => inputOf({ conversationId: field(someId()) }),
    "chat.editMessage": () =>
      inputOf({ messageId: field(someId()), content: field(fc.oneof(fc.string({ minLength: 1 }), hostileString)) }),
    "chat.deleteMessage": () => inputOf({ messageId: field(someId()) }),
    "chat.onMessageChanged": () => inputOf({ conversationId: field(someId()), lastEventId: field(someId()) }),
    // Not the open job: cancelled, it would take no more offers in `offer.create`'s property.
    "jobRequest.setStatus": () =>
      inputOf({
        jobRequestId: field(fc.constantFrom(ids.jobRequestId, "nope")),
        status: field(fc.constantFrom("completed", "cancelled", "open")),
      }),
    "moderation.reports": () => hostileValue,
    "moderation.conversation": () => inputOf({ conversationId: field(someId()), reason: field(hostileString) }),
    "moderation.closeConversation": () => inputOf({ conversationId: field(someId()), reason: field(hostileString) }),
    "moderation.reopenConversation": () => inputOf({ conversationId: field(someId()), reason: field(hostileString) }),
    "moderation.suspendUser": () =>
      inputOf({
        userId: field(fc.constantFrom("provider", "seeker")),
        until: field(hostileValue),
        reason: field(hostileString),
      }),
    "moderation.resolveReport": () => inputOf({ reportId: field(someId()) }),
    "moderation.auditLog": () => hostileValue,
    "chat.mute": () =>
      inputOf({ conversationId: field(someId()), until: field(fc.oneof(fc.date(), fc.integer(), fc.string())) }),
    "chat.unmute": () => inputOf({ conversationId: field(someId()) }),
    "notifications.preferences": () => hostileValue,
    "notifications.updatePreferences": () => inputOf({ push: field(fc.boolean()), email: field(fc.boolean()) }),
    "notifications.registerPush": () =>
      inputOf({
        subscription: field(
          inputOf({
            endpoint: field(fc.oneof(fc.webUrl(), fc.constantFrom("https://127.0.0.1/x", "http://push.example/x"))),
            keys: field(inputOf({ p256dh: field(fc.base64String()), auth: field(fc.base64String()) })),
          }),
        ),
      }),
    "notifications.unregisterPush": () => inputOf({ endpoint: field(fc.webUrl()) }),
    "notifications.setVisible": () => inputOf({ visible: field(fc.boolean()) }),
  };

  it("covers every procedure of the router", () => {
    expect([...routerProcedures().keys()].sort()).toEqual(Object.keys(inputs).sort());
  });

  const callers = ["seeker", "provider", "stranger"] as const;
  // Moderators' reads, with a moderator's token; their actions (close, suspend) would stop the sends below.
  const moderatorReads = new Set([
    "moderation.reports",
    "moderation.conversation",
    "moderation.auditLog",
    "moderation.resolveReport",
  ]);

  for (const [path, type] of routerProcedures()) {
    it(`${path} (${type}): hostile input gives a typed error or a valid result`, async () => {
      const arbitrary = inputs[path];
      if (!arbitrary) throw new Error(`No input arbitrary for ${path}`);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...(moderatorReads.has(path) ? ["moderator"] : callers)),
          arbitrary(),
          async (userId, input) => {
            const outcome = await call(app, userId, path, type, input);
            if (outcome.ok) checkResult(path, input, outcome.value);
          },
        ),
        // A few hostile strings are megabytes; fewer runs where inputs are big.
        { numRuns: NUM_RUNS },
      );
    });
  }

  /** A successful answer must be consistent with what was asked. */
  function checkResult(path: string, input: unknown, value: unknown) {
    const sent = input as Record<string, unknown>;
    if (path === "chat.sendMessage") {
      const result = value as { content: string; conversationId: string };
      expect(isWellFormedMessage(result.content)).toBe(true);
      expect(result.conversationId).toBe(ids.conversationId);
      if (sent["clientMessageId"] === undefined) {
        expect(result.content).toBe(String(sent["content"]).replaceAll("\r\n", "\n").trim());
      }
    }
    if (path === "jobRequest.create") {
      // What is stored is what was sent (trimmed), not a silently re-encoded copy.
      expect((value as { title: string }).title).toBe(String(sent["title"]).trim());
    }
    if (path === "offer.create") {
      const price = (value as { price: number | null }).price;
      if (sent["price"] === undefined) expect(price).toBeNull();
      // Stored in whole cents: 0.1 + 0.2 is answered as 0.3, -0 as 0, the same price.
      else expect(price).toBe(Math.round((sent["price"] as number) * 100) / 100 + 0);
    }
  }

  it("sendMessage: any content is stored exactly as normalised, or refused with BAD_REQUEST", async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, async (content) => {
        const outcome = await call(app, "provider", "chat.sendMessage", "mutation", {
          conversationId: ids.conversationId,
          content,
        });
        const normalised = content.replaceAll("\r\n", "\n").trim();
        if (isWellFormedMessage(normalised)) {
          expect(outcome.ok).toBe(true);
          const { messageId } = (outcome as { value: { messageId: string } }).value;
          const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: messageId } });
          expect(stored.content).toBe(normalised);
        } else {
          expect(outcome).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
        }
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("sendMessage: a retried clientMessageId never stores a second message", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 64 }).filter((id) => id.trim().length > 0 && !FORBIDDEN_CONTROL.test(id)),
        fc.array(
          fc.string({ minLength: 1, maxLength: 20 }).filter((text) => text.trim().length > 0),
          {
            minLength: 2,
            maxLength: 4,
          },
        ),
        async (clientMessageId, contents) => {
          const before = await app.db.prisma.message.count();
          const results = [];
          for (const content of contents) {
            const outcome = await call(app, "seeker", "chat.sendMessage", "mutation", {
              conversationId: ids.conversationId,
              content,
              clientMessageId: `${clientMessageId}-${before}`,
            });
            results.push(outcome);
          }
          const ok = results.filter((outcome) => outcome.ok);
          const messageIds = new Set(ok.map((outcome) => (outcome.value as { messageId: string }).messageId));
          expect(messageIds.size).toBeLessThanOrEqual(1);
          expect(await app.db.prisma.message.count()).toBe(before + messageIds.size);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("tokens: any string presented as a token is refused with UNAUTHORIZED", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileString,
          fc.constantFrom("Bearer x", "a.b.c", "..", `${app.tokenFor("seeker")}x`, "eyJhbGciOiJub25lIn0.e30."),
        ),
        async (token) => {
          let caller: ReturnType<TestApp["as"]>;
          try {
            caller = app.as(null, { token });
          } catch (error) {
            throw new Error(`creating a context for token ${JSON.stringify(token)} threw`, { cause: error });
          }
          if (!token) return;
          await expect(caller.auth.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  /**
   * Tokens signed with the right secret but odd claims (a misconfigured or compromised issuer).
   * They are either refused with UNAUTHORIZED or work without a 500 anywhere later.
   */
  it("tokens: correctly signed tokens with hostile claims never cause a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { sub: hostileValue, name: hostileValue, exp: hostileValue, extra: hostileValue },
          { requiredKeys: [] },
        ),
        async (claims) => {
          const payload: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(claims)) {
            // JSON cannot carry these; the issuer would not have signed them.
            if (typeof value === "bigint" || typeof value === "symbol" || value === undefined) continue;
            payload[key] = value;
          }
          let token: string;
          try {
            token = jwt.sign(payload, TEST_SECRET, { algorithm: "HS256" });
          } catch {
            return; // jsonwebtoken itself refuses to sign it (e.g. a non-numeric exp)
          }
          const caller = app.as(null, { token });
          const me = await caller.auth.me().then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          if (!me.ok) {
            expect(me.error).toBeInstanceOf(TRPCError);
            expect((me.error as TRPCError).code).toBe("UNAUTHORIZED");
            return;
          }
          // Accepted: using it must not break anything either.
          for (const attempt of [
            () => caller.jobRequest.create({ title: "A job from an odd token" }),
            () => caller.chat.conversations(),
            () => caller.chat.unreadCount(),
          ]) {
            await attempt().catch((error: unknown) => {
              expect(error).toBeInstanceOf(TRPCError);
              expect(TYPED_CODES.has((error as TRPCError).code), String(error)).toBe(true);
            });
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("leaves the database well-formed and every counter consistent", async () => {
    await auditDatabase(app);
  });

  /**
   * Bugs the properties above found, pinned as plain examples: ids, titles and
   * `clientMessageId` accepted any string, but PostgreSQL text cannot hold NUL and the drivers
   * re-encode lone surrogates as U+FFFD (two different keys became one).
   */
  describe("text PostgreSQL cannot store is refused up front", () => {
    it("NUL in an id, a title or a clientMessageId is a BAD_REQUEST, not an INTERNAL_SERVER_ERROR", async () => {
      const conversation = { id: ids.conversationId };
      const seeker = app.as("seeker");
      const attempts: [string, () => Promise<unknown>][] = [
        ["chat.conversation", () => seeker.chat.conversation({ conversationId: "a\u0000b" })],
        ["chat.conversationByJobRequest", () => seeker.chat.conversationByJobRequest({ jobRequestId: "\u0000" })],
        ["offer.accept", () => seeker.offer.accept({ offerId: "\u0000" })],
        ["jobRequest.create", () => seeker.jobRequest.create({ title: "Fix\u0000 it" })],
        [
          "chat.sendMessage",
          () => seeker.chat.sendMessage({ conversationId: conversation.id, content: "hi", clientMessageId: "c\u0000" }),
        ],
      ];
      const codes: Record<string, string> = {};
      for (const [path, attempt] of attempts) {
        codes[path] = await attempt().then(
          () => "OK",
          (error: unknown) => (error instanceof TRPCError ? error.code : "CRASH"),
        );
      }
      expect(codes).toEqual(Object.fromEntries(attempts.map(([path]) => [path, "BAD_REQUEST"])));
    });

    it("two different clientMessageIds never collapse into one message (lone surrogates)", async () => {
      const conversation = { id: ids.conversationId };
      const seeker = app.as("seeker");
      const send = (content: string, clientMessageId: string) =>
        seeker.chat.sendMessage({ conversationId: conversation.id, content, clientMessageId }).then(
          (sent) => sent.content,
          (error: unknown) => (error instanceof TRPCError ? error.code : "CRASH"),
        );
      const first = await send("first", "\ud83d");
      const second = await send("second", "\udc00");
      // Either both ids are refused, or both messages are stored; never "second" silently lost.
      expect([first, second]).toSatisfy(
        ([a, b]: string[]) => (a === "BAD_REQUEST" && b === "BAD_REQUEST") || (a === "first" && b === "second"),
      );
    });

    it("a title is stored as sent or refused, never silently re-encoded", async () => {
      const outcome = await app
        .as("seeker")
        .jobRequest.create({ title: "Fix the sink \ud800" })
        .then(
          (job) => job.title,
          (error: unknown) => (error instanceof TRPCError ? error.code : "CRASH"),
        );
      expect(["BAD_REQUEST", "Fix the sink \ud800"]).toContain(outcome);
    });

    it("a correctly signed token whose `sub` holds NUL is refused, not a 500 later", async () => {
      const token = jwt.sign({}, TEST_SECRET, { algorithm: "HS256", subject: "evil\u0000", expiresIn: "1h" });
      const outcome = await app
        .as(null, { token })
        .jobRequest.create({ title: "A job" })
        .then(
          () => "OK",
          (error: unknown) => (error instanceof TRPCError ? error.code : "CRASH"),
        );
      expect(outcome).toBe("UNAUTHORIZED");
    });
  });
});
