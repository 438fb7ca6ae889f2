/**
 * The authorization matrix: every procedure of the router × every kind of caller, each cell
 * with exactly one expected answer. Each cell runs on fresh data (its own job, offer and
 * conversation), so no cell depends on another's side effects.
 */
import { type Backend, testBackends } from "@naafe/db/testing";
import { TRPCError } from "@trpc/server";
import jwt from "jsonwebtoken";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { signToken } from "./auth.ts";
import { appRouter } from "./root.ts";
import { createTestApp, TEST_SECRET } from "./testing.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
type Caller = ReturnType<TestApp["as"]>;

const callerKinds = [
  "participant",
  "otherParticipant",
  "stranger",
  "moderator",
  "blocked",
  "noToken",
  "expiredToken",
  "forgedToken",
] as const;
type CallerKind = (typeof callerKinds)[number];

/** Who each kind is: the seeker, the provider, someone else, or nobody with various bad tokens. */
function tokenOf(app: TestApp, kind: CallerKind, users: Fixture["users"]): string | null {
  const now = Math.floor(Date.now() / 1000);
  switch (kind) {
    case "participant":
      return app.tokenFor(users.seeker);
    case "otherParticipant":
      return app.tokenFor(users.provider);
    case "stranger":
      return app.tokenFor(users.stranger);
    case "moderator":
      // Naafe staff: the moderator claim, not a participant of anything.
      return signToken({ secret: TEST_SECRET }, { id: users.moderator, role: "moderator" });
    case "blocked":
      // The provider, whom the seeker blocked in this cell's fixture.
      return app.tokenFor(users.provider);
    case "noToken":
      return null;
    case "expiredToken":
      return jwt.sign({ sub: users.seeker, exp: now - 60 }, TEST_SECRET, { algorithm: "HS256" });
    case "forgedToken":
      // The participant's claims, signed with a secret the server does not know.
      return jwt.sign({ sub: users.seeker, exp: now + 3600 }, "not-the-server-secret-but-long-enough-!!", {
        algorithm: "HS256",
      });
  }
}

interface Fixture {
  users: { seeker: string; provider: string; stranger: string; moderator: string };
  conversationId: string;
  jobRequestId: string;
  /** A job of the seeker still taking offers, with a pending offer of the provider on it. */
  openJobRequestId: string;
  pendingOfferId: string;
  messageId: string;
}

let cell = 0;

/**
 * Fresh users and data for one cell: a conversation with one message (after the notice it opens
 * with), and an open job with a pending offer. For the `blocked` kind, the seeker has blocked the
 * provider.
 */
async function fixture(app: TestApp, kind?: CallerKind): Promise<Fixture> {
  cell += 1;
  const users = {
    seeker: `seeker-${cell}`,
    provider: `provider-${cell}`,
    stranger: `stranger-${cell}`,
    moderator: `moderator-${cell}`,
  };
  const { conversation, job } = await app.openConversation(users.seeker, users.provider);
  const sent = await app
    .as(users.seeker)
    .chat.sendMessage({ conversationId: conversation.id, content: `secret ${cell}` });
  const openJob = await app.as(users.seeker).jobRequest.create({ title: "Another job" });
  const offer = await app.as(users.provider).offer.create({ jobRequestId: openJob.id, price: 50 });
  if (kind === "blocked") await app.as(users.seeker).chat.block({ userId: users.provider });
  return {
    users,
    conversationId: conversation.id,
    jobRequestId: job.id,
    openJobRequestId: openJob.id,
    pendingOfferId: offer.id,
    messageId: sent.messageId,
  };
}

/** The ids of the messages participants sent, in a page of messages (Naafe's opening notice left out). */
const sentIds = (value: unknown) =>
  (value as { messages: { id: string; type: string }[] }).messages
    .filter((message) => message.type !== "system")
    .map((message) => message.id);

/** What a cell expects: an error code, or success checked by `check`. */
type Expected = { error: TRPC_CODE } | { ok: (value: unknown, f: Fixture, kind: CallerKind) => void | Promise<void> };
type TRPC_CODE = TRPCError["code"];

interface Row {
  call: (caller: Caller, f: Fixture) => Promise<unknown>;
  /** Authenticated kinds; the three anonymous kinds always expect UNAUTHORIZED unless `anonymous` says otherwise. */
  expect: Record<SignedInKind, Expected>;
  anonymous?: Expected;
}

type SignedInKind = "participant" | "otherParticipant" | "stranger" | "moderator" | "blocked";

const ok = (check: (value: unknown, f: Fixture, kind: CallerKind) => void | Promise<void> = () => {}): Expected => ({
  ok: check,
});
const error = (code: TRPC_CODE): Expected => ({ error: code });
/** Participants only; a moderator is not one (they read through `moderation.*`), a blocked participant still is. */
const participantsOnly = (check?: Parameters<typeof ok>[0]) => ({
  participant: ok(check),
  otherParticipant: ok(check),
  stranger: error("FORBIDDEN"),
  moderator: error("FORBIDDEN"),
  blocked: ok(check),
});
const everyUser = (check?: Parameters<typeof ok>[0]) => ({
  participant: ok(check),
  otherParticipant: ok(check),
  stranger: ok(check),
  moderator: ok(check),
  blocked: ok(check),
});
const moderatorsOnly = (moderator: Expected = ok()) => ({
  participant: error("FORBIDDEN"),
  otherParticipant: error("FORBIDDEN"),
  stranger: error("FORBIDDEN"),
  moderator,
  blocked: error("FORBIDDEN"),
});
const everyone = (expected: Expected) => ({
  participant: expected,
  otherParticipant: expected,
  stranger: expected,
  moderator: expected,
  blocked: expected,
});

const idOf = (kind: CallerKind, f: Fixture) =>
  kind === "participant"
    ? f.users.seeker
    : kind === "otherParticipant" || kind === "blocked"
      ? f.users.provider
      : kind === "moderator"
        ? f.users.moderator
        : f.users.stranger;
/** The provider's side: the other participant, or the same person once blocked. */
const isProvider = (kind: CallerKind) => kind === "otherParticipant" || kind === "blocked";
/** Not in the conversation: a stranger, or a moderator. */
const isOutsider = (kind: CallerKind) => kind === "stranger" || kind === "moderator";

/** Reads the first event of a subscription, then stops it. */
async function first(iterable: unknown) {
  const iterator = (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  try {
    const result = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event within 5 s")), 5_000)),
    ]);
    return result.value;
  } finally {
    void iterator.return?.();
  }
}

/** Notifications: each user's own preferences and devices; muting a conversation is for its participants. */
const notificationRows: Record<string, Row> = {
  "chat.mute": {
    call: (c, f) => c.chat.mute({ conversationId: f.conversationId }),
    expect: participantsOnly((value, f) =>
      expect(value).toMatchObject({ conversationId: f.conversationId, muted: true }),
    ),
  },
  "chat.unmute": {
    call: (c, f) => c.chat.unmute({ conversationId: f.conversationId }),
    expect: participantsOnly((value) => expect(value).toMatchObject({ muted: false })),
  },
  "notifications.preferences": {
    call: (c) => c.notifications.preferences(),
    expect: everyUser((value) => expect(value).toMatchObject({ push: true, email: true })),
  },
  "notifications.updatePreferences": {
    call: (c) => c.notifications.updatePreferences({ push: true }),
    expect: everyUser((value) => expect(value).toMatchObject({ push: true })),
  },
  // Push is off on the test app's server: a typed refusal for everyone signed in.
  "notifications.registerPush": {
    call: (c) =>
      c.notifications.registerPush({
        subscription: { endpoint: "https://push.example.com/a", keys: { p256dh: "AAAA", auth: "BBBB" } },
      }),
    expect: everyone(error("BAD_REQUEST")),
  },
  "notifications.unregisterPush": {
    call: (c) => c.notifications.unregisterPush({ endpoint: "https://push.example.com/a" }),
    expect: everyUser((value) => expect(value).toEqual({ unregistered: false })),
  },
  "notifications.setVisible": {
    call: (c) => c.notifications.setVisible({ visible: false }),
    expect: everyUser((value) => expect(value).toEqual({ visible: false })),
  },
};

/** Trust and safety: blocking, reporting, edits, sharing contact details, the job's status, moderators. */
const moderationRows: Record<string, Row> = {
  "chat.block": {
    call: (c, f) => c.chat.block({ userId: f.users.provider }),
    // Anyone may block anyone else; nobody themselves.
    expect: { ...everyone(ok()), otherParticipant: error("BAD_REQUEST"), blocked: error("BAD_REQUEST") },
  },
  "chat.unblock": {
    call: (c, f) => c.chat.unblock({ userId: f.users.stranger }),
    expect: everyone(error("NOT_FOUND")),
  },
  "chat.report": {
    call: (c, f) => c.chat.report({ conversationId: f.conversationId, messageId: f.messageId, reason: "spam" }),
    expect: participantsOnly((value) => expect(value).toMatchObject({ status: "open" })),
  },
  "chat.shareContact": {
    // These tokens carry no phone or email to share; a blocked user cannot send at all.
    call: (c, f) => c.chat.shareContact({ conversationId: f.conversationId }),
    expect: {
      ...participantsOnly(),
      participant: error("BAD_REQUEST"),
      otherParticipant: error("BAD_REQUEST"),
      blocked: error("FORBIDDEN"),
    },
  },
  "chat.editMessage": {
    call: (c, f) => c.chat.editMessage({ messageId: f.messageId, content: "secret, edited" }),
    expect: {
      participant: ok((value) => expect(value).toMatchObject({ kind: "edited" })),
      otherParticipant: error("FORBIDDEN"),
      stranger: error("NOT_FOUND"),
      moderator: error("NOT_FOUND"),
      blocked: error("FORBIDDEN"),
    },
  },
  "chat.deleteMessage": {
    call: (c, f) => c.chat.deleteMessage({ messageId: f.messageId }),
    expect: {
      participant: ok((value) => expect(value).toMatchObject({ kind: "deleted" })),
      otherParticipant: error("FORBIDDEN"),
      stranger: error("NOT_FOUND"),
      moderator: error("NOT_FOUND"),
      blocked: error("FORBIDDEN"),
    },
  },
  "chat.onMessageChanged": {
    call: (c, f) => c.chat.onMessageChanged({ conversationId: f.conversationId }),
    expect: participantsOnly(),
  },
  "jobRequest.setStatus": {
    call: (c, f) => c.jobRequest.setStatus({ jobRequestId: f.jobRequestId, status: "completed" }),
    expect: {
      ...everyone(error("FORBIDDEN")),
      participant: ok((value) => expect(value).toMatchObject({ status: "completed" })),
    },
  },
  "moderation.reports": { call: (c) => c.moderation.reports(), expect: moderatorsOnly() },
  "moderation.conversation": {
    call: (c, f) => c.moderation.conversation({ conversationId: f.conversationId }),
    expect: moderatorsOnly(ok((value, f) => expect(sentIds(value)).toEqual([f.messageId]))),
  },
  "moderation.closeConversation": {
    call: (c, f) => c.moderation.closeConversation({ conversationId: f.conversationId, reason: "scam" }),
    expect: moderatorsOnly(ok((value) => expect(value).toMatchObject({ isActive: false }))),
  },
  "moderation.reopenConversation": {
    call: (c, f) => c.moderation.reopenConversation({ conversationId: f.conversationId, reason: "settled" }),
    // It is open: nothing to reopen.
    expect: moderatorsOnly(error("CONFLICT")),
  },
  "moderation.suspendUser": {
    call: (c, f) =>
      c.moderation.suspendUser({ userId: f.users.provider, until: new Date(Date.now() + 3_600_000), reason: "spam" }),
    expect: moderatorsOnly(),
  },
  "moderation.resolveReport": {
    call: (c) => c.moderation.resolveReport({ reportId: "no-such-report" }),
    expect: moderatorsOnly(error("NOT_FOUND")),
  },
  "moderation.auditLog": { call: (c) => c.moderation.auditLog(), expect: moderatorsOnly() },
};

const matrix: Record<string, Row> = {
  "auth.me": {
    call: (c) => c.auth.me(),
    expect: everyUser((value, f, kind) => expect(value).toMatchObject({ id: idOf(kind, f) })),
  },
  "auth.renew": {
    call: (c) => c.auth.renew({ token: "a-token" }),
    // Only a WebSocket connection is renewed (its transport offers the renewal).
    expect: everyone(error("BAD_REQUEST")),
  },
  "auth.demoUsers": {
    call: (c) => c.auth.demoUsers(),
    // Demo mode is off: nobody, signed in or not, learns of demo users.
    expect: everyUser((value) => expect(value).toEqual([])),
    anonymous: ok((value) => expect(value).toEqual([])),
  },
  "auth.demoSignIn": {
    call: (c, f) => c.auth.demoSignIn({ userId: f.users.seeker }),
    expect: everyone(error("FORBIDDEN")),
    anonymous: error("FORBIDDEN"),
  },
  "chat.conversations": {
    call: (c) => c.chat.conversations(),
    expect: everyUser((value, f, kind) => {
      const ids = (value as { conversations: { id: string }[] }).conversations.map((conversation) => conversation.id);
      if (isOutsider(kind)) expect(ids).toEqual([]);
      else expect(ids).toContain(f.conversationId);
    }),
  },
  "chat.conversation": {
    call: (c, f) => c.chat.conversation({ conversationId: f.conversationId }),
    expect: participantsOnly((value, f) => expect(value).toMatchObject({ id: f.conversationId })),
  },
  "chat.messages": {
    call: (c, f) => c.chat.messages({ conversationId: f.conversationId }),
    expect: participantsOnly((value, f) => expect(sentIds(value)).toEqual([f.messageId])),
  },
  "chat.search": {
    call: (c, f) => c.chat.search({ query: "secret", conversationId: f.conversationId }),
    expect: participantsOnly((value, f) =>
      expect((value as { results: { messageId: string }[] }).results.map((r) => r.messageId)).toEqual([f.messageId]),
    ),
  },
  "chat.conversationByJobRequest": {
    call: (c, f) => c.chat.conversationByJobRequest({ jobRequestId: f.jobRequestId }),
    // NOT_FOUND, as for a job without one: a stranger must not learn whether it has a conversation.
    expect: {
      ...participantsOnly((value, f) => expect(value).toMatchObject({ id: f.conversationId })),
      stranger: error("NOT_FOUND"),
      moderator: error("NOT_FOUND"),
    },
  },
  "chat.unreadCount": {
    call: (c) => c.chat.unreadCount(),
    expect: everyUser((value, _f, kind) => expect(value).toEqual({ total: isProvider(kind) ? 1 : 0 })),
  },
  "chat.sendMessage": {
    call: (c, f) => c.chat.sendMessage({ conversationId: f.conversationId, content: "hello" }),
    expect: {
      ...participantsOnly((value, f) => expect(value).toMatchObject({ conversationId: f.conversationId })),
      blocked: error("FORBIDDEN"),
    },
  },
  "chat.createUpload": {
    call: (c, f) =>
      c.chat.createUpload({
        conversationId: f.conversationId,
        name: "quote.pdf",
        size: 100,
        mimeType: "application/pdf",
      }),
    expect: {
      ...participantsOnly((value) => expect(value).toMatchObject({ method: "PUT", uploadId: expect.any(String) })),
      blocked: error("FORBIDDEN"),
    },
  },
  "chat.markRead": {
    call: (c, f) => c.chat.markRead({ conversationId: f.conversationId }),
    expect: participantsOnly((value, _f, kind) =>
      // Only the provider had an unread message.
      expect(value).toMatchObject({ readCount: isProvider(kind) ? 1 : 0 }),
    ),
  },
  "chat.typing": {
    call: (c, f) => c.chat.typing({ conversationId: f.conversationId, isTyping: true }),
    expect: participantsOnly((value) => expect(value).toMatchObject({ isTyping: true })),
  },
  "chat.onMessage": {
    call: (c, f) => c.chat.onMessage({ conversationId: f.conversationId }),
    expect: participantsOnly(),
  },
  "chat.onMessagesRead": {
    call: (c, f) => c.chat.onMessagesRead({ conversationId: f.conversationId }),
    expect: participantsOnly(),
  },
  "chat.onMessagesDelivered": {
    call: (c, f) => c.chat.onMessagesDelivered({ conversationId: f.conversationId }),
    expect: participantsOnly(),
  },
  "chat.onTyping": {
    call: (c, f) => c.chat.onTyping({ conversationId: f.conversationId }),
    expect: participantsOnly(),
  },
  "chat.onPresence": {
    // The current state of the other participant comes first.
    call: async (c, f) => first(await c.chat.onPresence({ conversationId: f.conversationId })),
    expect: participantsOnly((value, f, kind) => {
      expect(value).toMatchObject({
        conversationId: f.conversationId,
        userId: kind === "participant" ? f.users.provider : f.users.seeker,
      });
      // The blocker shows offline and never seen to the user they blocked.
      if (kind === "blocked") expect(value).toMatchObject({ online: false, lastSeen: null });
    }),
  },
  "chat.onInbox": {
    call: (c) => c.chat.onInbox(),
    expect: everyUser(),
  },
  "jobRequest.create": {
    call: (c) => c.jobRequest.create({ title: "Mow the lawn" }),
    expect: everyUser((value, f, kind) => expect(value).toMatchObject({ seekerId: idOf(kind, f) })),
  },
  "jobRequest.list": {
    call: (c) => c.jobRequest.list(),
    expect: everyUser((value, f, kind) => {
      const jobs = value as { id: string; conversationId: string | null; offers: { providerId: string }[] }[];
      const assigned = jobs.find((job) => job.id === f.jobRequestId);
      const open = jobs.find((job) => job.id === f.openJobRequestId);
      // Only participants learn which conversation a job has; strangers see open jobs, not others' offers.
      if (isOutsider(kind)) {
        expect(assigned).toBeUndefined();
        expect(open?.offers).toEqual([]);
      } else {
        expect(assigned?.conversationId).toBe(f.conversationId);
        expect(open?.offers.map((offer) => offer.providerId)).toEqual([f.users.provider]);
      }
    }),
  },
  "offer.create": {
    call: (c, f) => c.offer.create({ jobRequestId: f.openJobRequestId, price: 70 }),
    // No offers on one's own job; anyone else may offer, once while it is pending (the provider has one).
    expect: {
      participant: error("FORBIDDEN"),
      otherParticipant: error("CONFLICT"),
      stranger: ok(),
      moderator: ok(),
      blocked: error("CONFLICT"),
    },
  },
  "offer.accept": {
    call: (c, f) => c.offer.accept({ offerId: f.pendingOfferId }),
    expect: {
      participant: ok((value, f) =>
        expect(value).toMatchObject({ offer: { id: f.pendingOfferId, status: "accepted" } }),
      ),
      otherParticipant: error("FORBIDDEN"),
      stranger: error("FORBIDDEN"),
      moderator: error("FORBIDDEN"),
      blocked: error("FORBIDDEN"),
    },
  },
  ...moderationRows,
  ...notificationRows,
};

const anonymousKinds = new Set<CallerKind>(["noToken", "expiredToken", "forgedToken"]);

describe.each(testBackends)("authorization matrix on %s", (backend: Backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(backend);
  });
  afterAll(async () => {
    await app?.[Symbol.asyncDispose]();
  });

  it("has a row for every procedure of the router", () => {
    expect(Object.keys(matrix).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
  });

  const cells = Object.entries(matrix).flatMap(([path, row]) =>
    callerKinds.map((kind) => {
      const expected = anonymousKinds.has(kind)
        ? (row.anonymous ?? error("UNAUTHORIZED"))
        : row.expect[kind as keyof Row["expect"]];
      return [path, kind, row, expected] as const;
    }),
  );

  it.each(cells)("%s by %s", async (_path, kind, row, expected) => {
    const f = await fixture(app, kind);
    const controller = new AbortController();
    const caller = app.as(null, { token: tokenOf(app, kind, f.users), signal: controller.signal });
    const messagesBefore = await app.db.prisma.message.count({ where: { conversationId: f.conversationId } });
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await row.call(caller, f) };
    } catch (caught) {
      outcome = { ok: false, error: caught };
    } finally {
      controller.abort();
    }

    if ("error" in expected) {
      expect(outcome.ok, "expected a refusal").toBe(false);
      const refused = (outcome as { error: unknown }).error;
      expect(refused).toBeInstanceOf(TRPCError);
      expect((refused as TRPCError).code).toBe(expected.error);
      // A refusal never carries the conversation's data.
      expect(JSON.stringify({ message: (refused as TRPCError).message })).not.toContain("secret");
      // The two kinds of bad token are told apart, so a client knows to sign in again.
      if (expected.error === "UNAUTHORIZED" && kind === "expiredToken") {
        expect((refused as TRPCError).message).toMatch(/expired/);
      }
      if (expected.error === "UNAUTHORIZED" && kind === "forgedToken") {
        expect((refused as TRPCError).message).toMatch(/not valid/);
      }
      // A refused caller changed nothing.
      expect(await app.db.prisma.message.count({ where: { conversationId: f.conversationId } })).toBe(messagesBefore);
    } else {
      if (!outcome.ok) throw new Error("expected a result", { cause: outcome.error });
      await expected.ok(outcome.value, f, kind);
    }
  });

  it("a subscription whose caller is refused never yields: onMessage for a stranger is FORBIDDEN on start", async () => {
    const f = await fixture(app);
    await expect(app.as(f.users.stranger).chat.onMessage({ conversationId: f.conversationId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });

  it("an unknown conversation is NOT_FOUND for every signed-in caller, UNAUTHORIZED for the others", async () => {
    const f = await fixture(app);
    const conversationId = "00000000-0000-0000-0000-000000000000";
    for (const kind of callerKinds) {
      const caller = app.as(null, { token: tokenOf(app, kind, f.users) });
      const expected = anonymousKinds.has(kind) ? "UNAUTHORIZED" : "NOT_FOUND";
      for (const attempt of [
        () => caller.chat.conversation({ conversationId }),
        () => caller.chat.messages({ conversationId }),
        () => caller.chat.sendMessage({ conversationId, content: "hi" }),
        () => caller.chat.markRead({ conversationId }),
        () => caller.chat.onMessage({ conversationId }),
        () => caller.chat.onMessagesRead({ conversationId }),
      ]) {
        await expect(attempt(), `${kind}`).rejects.toMatchObject({ code: expected });
      }
    }
  });

  it("a participant's onMessage yields the messages after lastEventId, as tracked events", async () => {
    const f = await fixture(app);
    const next = await app.as(f.users.seeker).chat.sendMessage({ conversationId: f.conversationId, content: "next" });
    const controller = new AbortController();
    const events = await app
      .as(f.users.provider, { signal: controller.signal })
      .chat.onMessage({ conversationId: f.conversationId, lastEventId: f.messageId });
    const event = await first(events);
    controller.abort();
    // createCaller hands out tracked events as `[id, data, marker]`.
    const [id, data] = event as [string, unknown];
    expect(id).toBe(next.messageId);
    expect(data).toMatchObject({ messageId: next.messageId, content: "next" });
  });
});
