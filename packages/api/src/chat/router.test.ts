import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import jwt from "jsonwebtoken";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApp, OPENING_SEQ, TEST_SECRET } from "../testing.ts";

/** Reads `count` events from a subscription's async iterable, then stops it. */
async function take<T>(iterable: AsyncIterable<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  if (count === 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

/**
 * Tracked events are typed `{ id, data }`, which is what clients receive; createCaller hands
 * out the server-side `[id, data]` envelope instead.
 */
function untracked<T extends { id: string; data: unknown }>(events: T[]): T[] {
  return events.map((event) => (Array.isArray(event) ? ({ id: event[0], data: event[1] } as T) : event));
}

/** Subscribes, and resolves once the subscription is attached (the first await inside it ran). */
async function subscribe<T>(start: (signal: AbortSignal) => Promise<AsyncIterable<T>>) {
  const controller = new AbortController();
  const iterable = await start(controller.signal);
  return { iterable, stop: () => controller.abort() };
}

beforeAll(prepareTestDatabases);

describe.each(testBackends)("chat router on %s", (backend) => {
  describe("sendMessage", () => {
    it("stores the message, updates lastMessage and the receiver's unread count", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const sent = await app.as("seeker").chat.sendMessage({
        conversationId: conversation.id,
        receiverId: "provider",
        content: "  Hello, when can you come?  ",
      });
      expect(sent).toMatchObject({ conversationId: conversation.id, content: "Hello, when can you come?" });
      expect(sent.timestamp).toBeInstanceOf(Date);

      const [providerView] = (await app.as("provider").chat.conversations()).conversations;
      expect(providerView).toMatchObject({
        unreadCount: 1,
        otherParticipant: { id: "seeker" },
        lastMessage: { content: "Hello, when can you come?", senderId: "seeker", timestamp: sent.timestamp },
      });
      const [seekerView] = (await app.as("seeker").chat.conversations()).conversations;
      expect(seekerView?.unreadCount).toBe(0);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 1 });

      const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } });
      expect(stored).toMatchObject({ senderId: "seeker", receiverId: "provider", read: false, readAt: null });
      expect(stored.timestamp).toEqual(sent.timestamp);
    });

    it("keeps Arabic with its marks, emoji and right-to-left marks as sent", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      for (const content of ["السعر ٣٥٠ جنيه\u200F، تمام؟", "👍🏽", "مَرْحَبًا"]) {
        const sent = await app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content });
        expect(sent.content).toBe(content);
      }
    });

    it("keeps text as text: HTML is stored verbatim, newlines and tabs survive", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const content = "<script>alert(1)</script>\n\tline two &amp;";
      const sent = await app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content });
      expect(sent.content).toBe(content);
    });

    it("counts characters as people do: 2000 emoji fit, 2001 characters do not", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const seeker = app.as("seeker");
      await expect(
        seeker.chat.sendMessage({ conversationId: conversation.id, content: "😀".repeat(2000) }),
      ).resolves.toBeTruthy();
      await expect(
        seeker.chat.sendMessage({ conversationId: conversation.id, content: "a".repeat(2001) }),
      ).rejects.toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringContaining("at most 2000 characters"),
      });
    });

    it.each([
      ["empty", "", "cannot be empty"],
      ["only spaces", "   \n\t ", "cannot be empty"],
      ["a control character", "hi\u0007there", "control characters"],
      ["a lone surrogate", "broken \ud800 text", "valid Unicode"],
      ["only zero-width spaces", "\u200b\u200b\u200b", "visible text"],
      ["only Hangul fillers", "\u3164\u3164", "visible text"],
      ["only tag characters", "\u{E0041}\u{E0042}", "visible text"],
      ["a direction override", "invoice \u202Egpj.exe", "direction overrides"],
      ["a direction isolate", "price \u2067350\u2069 EGP", "direction overrides"],
    ])("rejects %s content with BAD_REQUEST and stores nothing", async (_, content, reason) => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const error = await app
        .as("seeker")
        .chat.sendMessage({ conversationId: conversation.id, content })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining(reason) });
      expect(await app.countSent()).toBe(0);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 0 });
    });

    it("rejects a receiver who is not the other participant", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      await expect(
        app
          .as("seeker")
          .chat.sendMessage({ conversationId: conversation.id, receiverId: "someone-else", content: "hi" }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("other participant") });
      expect(await app.countSent()).toBe(0);
    });

    it("lets only participants send", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      await expect(
        app.as("stranger").chat.sendMessage({ conversationId: conversation.id, content: "hi" }),
      ).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(
        app.as("seeker").chat.sendMessage({ conversationId: "no-such-conversation", content: "hi" }),
      ).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      await expect(
        app.as(null).chat.sendMessage({ conversationId: conversation.id, content: "hi" }),
      ).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
      expect(await app.countSent()).toBe(0);
    });

    it("makes an inactive conversation read-only", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      await app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "before" });
      await app.db.prisma.conversation.update({ where: { id: conversation.id }, data: { isActive: false } });
      await expect(
        app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "after" }),
      ).rejects.toMatchObject({
        code: "FORBIDDEN",
        message: expect.stringContaining("closed"),
      });
      const { messages } = await app.as("provider").chat.messages({ conversationId: conversation.id });
      expect(messages.map((m) => m.content)).toEqual(["Offer accepted: 120 EGP", "before"]);
      expect((await app.as("provider").chat.markRead({ conversationId: conversation.id })).readCount).toBe(1);
    });

    it("stores a retried send with the same clientMessageId once and returns the original", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const send = () =>
        app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "once", clientMessageId: "c-1" });
      const first = await send();
      const [again, concurrent] = await Promise.all([send(), send()]);
      expect(again.messageId).toBe(first.messageId);
      expect(concurrent.messageId).toBe(first.messageId);
      expect(await app.countSent()).toBe(1);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 1 });
      // The same clientMessageId from the other participant is a different message.
      await app
        .as("provider")
        .chat.sendMessage({ conversationId: conversation.id, content: "mine", clientMessageId: "c-1" });
      expect(await app.countSent()).toBe(2);
    });

    it("loses no update under 200 concurrent sends", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const seeker = app.as("seeker");
      const sent = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          seeker.chat.sendMessage({ conversationId: conversation.id, content: `message ${i}` }),
        ),
      );
      expect(new Set(sent.map((m) => m.messageId)).size).toBe(200);
      expect(await app.countSent({ conversationId: conversation.id })).toBe(200);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 200 });
      const seqs = sent.map((m) => m.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => OPENING_SEQ + i + 1));
    });

    it("stores sends that arrive together in order, each conversation with its own seqs and counters", async () => {
      await using app = await createTestApp(backend);
      const first = (await app.openConversation()).conversation;
      const second = (await app.openConversation("seeker", "other-provider")).conversation;
      // Interleaved, from both sides, all submitted at once (participants already known): one statement.
      for (const { id } of [first, second]) await app.as("seeker").chat.conversation({ conversationId: id });
      const statements = vi.spyOn(app.db, "query");
      const plan = Array.from({ length: 12 }, (_, i) => ({
        from: i % 3 === 0 ? (i % 2 === 0 ? "provider" : "other-provider") : "seeker",
        conversationId: i % 2 === 0 ? first.id : second.id,
        content: `m${i}`,
      }));
      const sent = await Promise.all(
        plan.map(({ from, conversationId, content }) => app.as(from).chat.sendMessage({ conversationId, content })),
      );
      expect(statements).toHaveBeenCalledTimes(1);
      for (const conversation of [first, second]) {
        const mine = plan
          .map((step, i) => ({ ...step, seq: sent[i]?.seq }))
          .filter((step) => step.conversationId === conversation.id);
        expect(mine.map((step) => step.seq)).toEqual([1, 2, 3, 4, 5, 6].map((n) => OPENING_SEQ + n));
        const stored = await app.db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
        const last = mine.at(-1);
        expect(stored).toMatchObject({
          messageCount: OPENING_SEQ + 6,
          lastMessageContent: last?.content,
          lastMessageSenderId: last?.from,
          unreadCountSeeker: mine.filter((step) => step.from !== "seeker").length,
          unreadCountProvider: mine.filter((step) => step.from === "seeker").length,
        });
        const { messages } = await app.as("seeker").chat.messages({ conversationId: conversation.id });
        const sentThere = messages.filter((m) => m.type !== "system");
        expect(sentThere.map((m) => m.content)).toEqual(mine.map((step) => step.content));
      }
    });

    it("fails only the resent and the closed sends of a batch, not the others sent with them", async () => {
      await using app = await createTestApp(backend);
      const open = (await app.openConversation()).conversation;
      const closed = (await app.openConversation("seeker", "other-provider")).conversation;
      const original = await app
        .as("seeker")
        .chat.sendMessage({ conversationId: open.id, content: "first", clientMessageId: "c-1" });
      await app.db.prisma.conversation.update({ where: { id: closed.id }, data: { isActive: false } });
      await app.as("seeker").chat.conversation({ conversationId: closed.id });
      // Blocks and suspensions are cached too (after one read per pair), so the three sends reach the batch together.
      await app.services.moderation.assertMaySend("seeker", closed.id);
      const statements = vi.spyOn(app.db, "query");
      const [resent, fresh, refused] = await Promise.allSettled([
        app.as("seeker").chat.sendMessage({ conversationId: open.id, content: "first", clientMessageId: "c-1" }),
        app.as("seeker").chat.sendMessage({ conversationId: open.id, content: "second", clientMessageId: "c-2" }),
        app.as("seeker").chat.sendMessage({ conversationId: closed.id, content: "too late" }),
      ]);
      expect(resent).toMatchObject({
        status: "fulfilled",
        value: { messageId: original.messageId, seq: OPENING_SEQ + 1 },
      });
      expect(fresh).toMatchObject({ status: "fulfilled", value: { content: "second", seq: OPENING_SEQ + 2 } });
      expect(refused).toMatchObject({ status: "rejected", reason: { code: "FORBIDDEN" } });
      // Tried together first; the duplicate rolled that back, so each was stored on its own.
      expect(statements.mock.calls.map(([, params]) => (params[0] as string[]).length)).toEqual([3, 1, 1, 1]);
      expect(await app.countSent()).toBe(2);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 2 });
      expect(await app.as("other-provider").chat.unreadCount()).toEqual({ total: 0 });
    });

    it("reports each send of a batch retried one by one with its own outcome", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const seeker = app.as("seeker");
      await seeker.chat.sendMessage({ conversationId, content: "first", clientMessageId: "c-1" });
      // The batch fails on the resend; then, stored alone, "unlucky" loses its connection.
      const query = app.db.query.bind(app.db);
      const statements = vi.spyOn(app.db, "query").mockImplementation((text, params) => {
        const contents = params[4] as string[];
        if (contents.length === 1 && contents[0] === "unlucky") {
          return Promise.reject(new Error("Connection terminated unexpectedly"));
        }
        return query(text, params);
      });
      const [resent, unlucky, fine] = await Promise.allSettled([
        seeker.chat.sendMessage({ conversationId, content: "first", clientMessageId: "c-1" }),
        seeker.chat.sendMessage({ conversationId, content: "unlucky", clientMessageId: "c-2" }),
        seeker.chat.sendMessage({ conversationId, content: "fine", clientMessageId: "c-3" }),
      ]);
      expect(resent).toMatchObject({ status: "fulfilled", value: { seq: OPENING_SEQ + 1 } });
      expect(unlucky).toMatchObject({ status: "rejected", reason: { code: "SERVICE_UNAVAILABLE" } });
      expect(fine).toMatchObject({ status: "fulfilled", value: { content: "fine", seq: OPENING_SEQ + 2 } });
      expect(statements.mock.calls.map(([, params]) => (params[0] as string[]).length)).toEqual([3, 1, 1, 1]);
      expect(await app.countSent()).toBe(2);
    });

    it("answers a sender over the limit with TOO_MANY_REQUESTS and a retry-after", async () => {
      await using app = await createTestApp(backend, { sendLimit: { burst: 3, perSecond: 0.5 } });
      const { conversation } = await app.openConversation();
      const seeker = app.as("seeker");
      for (let i = 0; i < 3; i++) await seeker.chat.sendMessage({ conversationId: conversation.id, content: `m${i}` });
      const error = await seeker.chat
        .sendMessage({ conversationId: conversation.id, content: "one too many" })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", cause: { retryAfter: 2 } });
      expect(await app.countSent()).toBe(3);
      // Another user has their own allowance.
      await expect(
        app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "fine" }),
      ).resolves.toBeTruthy();
    });

    it("limits typing events too", async () => {
      await using app = await createTestApp(backend, { typingLimit: { burst: 2, perSecond: 0.25 } });
      const { conversation } = await app.openConversation();
      const typing = (isTyping: boolean) => app.as("seeker").chat.typing({ conversationId: conversation.id, isTyping });
      await typing(true);
      await typing(false);
      await expect(typing(true)).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS", cause: { retryAfter: 4 } });
    });
  });

  describe("reading", () => {
    it("lists the caller's conversations, most recent first, with pagination", async () => {
      await using app = await createTestApp(backend);
      const first = await app.openConversation("seeker", "provider-a");
      const second = await app.openConversation("seeker", "provider-b");
      const seeker = app.as("seeker");
      expect((await seeker.chat.conversations()).conversations.map((c) => c.id)).toEqual([
        second.conversation.id,
        first.conversation.id,
      ]);
      await seeker.chat.sendMessage({ conversationId: first.conversation.id, content: "bump" });
      const page1 = await seeker.chat.conversations({ page: 1, limit: 1 });
      expect(page1.conversations.map((c) => c.id)).toEqual([first.conversation.id]);
      expect(page1.pagination).toEqual({ page: 1, limit: 1, total: 2, pages: 2 });
      const page2 = await seeker.chat.conversations({ page: 2, limit: 1 });
      expect(page2.conversations[0]).toMatchObject({
        id: second.conversation.id,
        otherParticipant: { id: "provider-b" },
      });
      expect((await app.as("provider-a").chat.conversations()).conversations).toHaveLength(1);
      expect((await app.as("stranger").chat.conversations()).conversations).toHaveLength(0);
    });

    it.each([{ limit: 0 }, { limit: 101 }, { page: 0 }, { limit: 1.5 }])(
      "rejects pagination %o with BAD_REQUEST",
      async (input) => {
        await using app = await createTestApp(backend);
        await expect(app.as("seeker").chat.conversations(input)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      },
    );

    it("pages messages by page and by `before` cursor, oldest first within a page", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      for (let i = 1; i <= 5; i++)
        await app.as(i % 2 ? "seeker" : "provider").chat.sendMessage({ conversationId, content: `m${i}` });
      const provider = app.as("provider");
      const newest = await provider.chat.messages({ conversationId, limit: 2 });
      expect(newest.messages.map((m) => m.content)).toEqual(["m4", "m5"]);
      // Five sent after the notice the conversation opened with.
      expect(newest.pagination).toEqual({ page: 1, limit: 2, total: 6, pages: 3 });
      const older = await provider.chat.messages({ conversationId, limit: 2, before: newest.nextCursor ?? "" });
      expect(older.messages.map((m) => m.content)).toEqual(["m2", "m3"]);
      const oldest = await provider.chat.messages({ conversationId, limit: 2, before: older.nextCursor ?? "" });
      expect(oldest.messages.map((m) => m.content)).toEqual(["Offer accepted: 120 EGP", "m1"]);
      expect(oldest.nextCursor).toBeNull();
      expect(
        (await provider.chat.messages({ conversationId, limit: 2, page: 2 })).messages.map((m) => m.content),
      ).toEqual(["m2", "m3"]);
      await expect(app.as("stranger").chat.messages({ conversationId })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(provider.chat.messages({ conversationId, before: "not-a-message" })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    });

    it("finds the conversation of a job request for its participants only", async () => {
      await using app = await createTestApp(backend);
      const { job, conversation } = await app.openConversation();
      expect(await app.as("provider").chat.conversationByJobRequest({ jobRequestId: job.id })).toMatchObject({
        id: conversation.id,
        jobRequest: { title: "Fix the kitchen sink" },
        participants: { seeker: { id: "seeker" }, provider: { id: "provider" } },
        isActive: true,
      });
      // A stranger gets the same answer whether or not the job has a conversation: nothing leaks.
      const stranger = await app
        .as("stranger")
        .chat.conversationByJobRequest({ jobRequestId: job.id })
        .catch((e) => e);
      const missing = await app
        .as("seeker")
        .chat.conversationByJobRequest({ jobRequestId: "nope" })
        .catch((e) => e);
      expect(stranger).toMatchObject({ code: "NOT_FOUND" });
      expect({ code: stranger.code, message: stranger.message }).toEqual({
        code: missing.code,
        message: missing.message,
      });
    });

    it("sums unread counts over all of the caller's conversations", async () => {
      await using app = await createTestApp(backend);
      const a = await app.openConversation("seeker", "provider");
      const b = await app.openConversation("other-seeker", "provider");
      await app.as("seeker").chat.sendMessage({ conversationId: a.conversation.id, content: "1" });
      await app.as("seeker").chat.sendMessage({ conversationId: a.conversation.id, content: "2" });
      await app.as("other-seeker").chat.sendMessage({ conversationId: b.conversation.id, content: "3" });
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 3 });
      expect(await app.as("seeker").chat.unreadCount()).toEqual({ total: 0 });
    });
  });

  describe("markRead", () => {
    it("marks the caller's unread messages read, resets the counter and tells the other side", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const reads = await subscribe((signal) => app.as("seeker", { signal }).chat.onMessagesRead({ conversationId }));
      await app.as("seeker").chat.sendMessage({ conversationId, content: "a" });
      await app.as("seeker").chat.sendMessage({ conversationId, content: "b" });
      await app.as("provider").chat.sendMessage({ conversationId, content: "mine stays unread for the seeker" });

      expect(await app.as("provider").chat.markRead({ conversationId })).toEqual({ conversationId, readCount: 2 });
      const [event] = await take(reads.iterable, 1);
      expect(event).toMatchObject({ conversationId, readCount: 2, readerId: "provider" });
      expect(event?.readAt).toBeInstanceOf(Date);

      const messages = await app.db.prisma.message.findMany({
        where: { conversationId, type: "text" },
        orderBy: { seq: "asc" },
      });
      expect(messages.map((m) => [m.read, m.readAt !== null])).toEqual([
        [true, true],
        [true, true],
        [false, false],
      ]);
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 0 });
      expect(await app.as("seeker").chat.unreadCount()).toEqual({ total: 1 });
      expect(await app.as("provider").chat.markRead({ conversationId })).toEqual({ conversationId, readCount: 0 });
      await expect(app.as("stranger").chat.markRead({ conversationId })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(app.as("stranger").chat.onMessagesRead({ conversationId })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    });

    it("keeps the counter exact when reads and sends race", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 6 === 0
            ? app.as("provider").chat.markRead({ conversationId })
            : app.as("seeker").chat.sendMessage({ conversationId, content: `m${i}` }),
        ),
      );
      const unread = await app.db.prisma.message.count({
        where: { conversationId, receiverId: "provider", read: false },
      });
      expect(await app.as("provider").chat.unreadCount()).toEqual({ total: unread });
    });
  });

  describe("onMessage", () => {
    it("delivers live messages to participants and refuses strangers", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const sub = await subscribe((signal) => app.as("provider", { signal }).chat.onMessage({ conversationId }));
      const sent = await app.as("seeker").chat.sendMessage({ conversationId, content: "live!" });
      const [event] = untracked(await take(sub.iterable, 1));
      expect(event).toMatchObject({
        id: sent.messageId,
        data: { messageId: sent.messageId, content: "live!", senderId: "seeker" },
      });
      await expect(app.as("stranger").chat.onMessage({ conversationId })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(app.as(null).chat.onMessage({ conversationId })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      await expect(app.as("seeker").chat.onMessage({ conversationId: "nope" })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    });

    it("catches up from lastEventId with no gap and no duplicate while messages keep arriving", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const seeker = app.as("seeker");
      const first = await seeker.chat.sendMessage({ conversationId, content: "seen" });
      for (let i = 0; i < 30; i++) await seeker.chat.sendMessage({ conversationId, content: `missed ${i}` });

      const sub = await subscribe((signal) =>
        app.as("provider", { signal }).chat.onMessage({ conversationId, lastEventId: first.messageId }),
      );
      const during = Promise.all(
        Array.from({ length: 30 }, (_, i) => seeker.chat.sendMessage({ conversationId, content: `during ${i}` })),
      );
      const events = untracked(await take(sub.iterable, 60));
      await during;
      const seqs = events.map((e) => e.data.seq);
      expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => OPENING_SEQ + i + 2));
      expect(new Set(events.map((e) => e.id)).size).toBe(60);
    });

    it("fills a gap left by a lost live event from the database", async () => {
      await using app = await createTestApp(backend);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const sub = await subscribe((signal) => app.as("provider", { signal }).chat.onMessage({ conversationId }));
      // Drop the next publication, as a Redis hiccup would.
      const publish = app.bus.publish;
      app.bus.publish = async () => {};
      await app.as("seeker").chat.sendMessage({ conversationId, content: "lost in transit" });
      app.bus.publish = publish;
      await app.as("seeker").chat.sendMessage({ conversationId, content: "arrives" });
      const events = untracked(await take(sub.iterable, 2));
      expect(events.map((e) => e.data.content)).toEqual(["lost in transit", "arrives"]);
    });

    it("rejects a lastEventId from another conversation", async () => {
      await using app = await createTestApp(backend);
      const a = await app.openConversation();
      const b = await app.openConversation("seeker", "provider-2");
      const other = await app.as("seeker").chat.sendMessage({ conversationId: b.conversation.id, content: "x" });
      await expect(
        app.as("provider").chat.onMessage({ conversationId: a.conversation.id, lastEventId: other.messageId }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });
  });

  describe("onInbox", () => {
    it("tells each user about new conversations, messages and reads in their conversations only", async () => {
      await using app = await createTestApp(backend);
      const inbox = await subscribe((signal) => app.as("provider", { signal }).chat.onInbox(undefined));
      const stranger = await subscribe((signal) => app.as("stranger", { signal }).chat.onInbox(undefined));
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      await app.as("seeker").chat.sendMessage({ conversationId, content: "hi" });
      await app.as("provider").chat.markRead({ conversationId });
      expect(await take(inbox.iterable, 4)).toEqual([
        { kind: "conversation", conversationId },
        { kind: "message", conversationId }, // the notice it opens with
        { kind: "message", conversationId },
        { kind: "read", conversationId },
      ]);
      stranger.stop();
      expect(await take(stranger.iterable, 1)).toEqual([]);
    });
  });

  describe("auth", () => {
    it("rejects expired, forged and unsigned tokens with UNAUTHORIZED", async () => {
      await using app = await createTestApp(backend);
      const expired = jwt.sign({ exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRET, { subject: "seeker" });
      const forged = jwt.sign({}, "some-other-secret", { subject: "seeker", expiresIn: "1h" });
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
      const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: "seeker", exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
      const noExpiry = jwt.sign({}, TEST_SECRET, { subject: "seeker" });
      for (const [token, reason] of [
        [expired, "expired"],
        [forged, "not valid"],
        [unsigned, "not valid"],
        [noExpiry, "expiry"],
        ["garbage", "not valid"],
      ] as const) {
        await expect(app.as("seeker", { token }).chat.unreadCount()).rejects.toMatchObject({
          code: "UNAUTHORIZED",
          message: expect.stringContaining(reason),
        });
      }
    });
  });
});
