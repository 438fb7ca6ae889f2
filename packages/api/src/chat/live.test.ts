import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { topics } from "../platform/bus/event-bus.ts";
import { createMemoryPresenceStore } from "../platform/presence.ts";
import { createTestApp } from "../testing.ts";

/** Short timings, so expiry and throttling show within a test. */
const fast = {
  typing: { expireMs: 400, throttleMs: 150 },
  presence: { expireMs: 300, heartbeatMs: 50, graceMs: 0 },
};

/** Whether `promise` has settled, read synchronously. */
function settledFlag(promise: Promise<unknown>) {
  const flag = { settled: false };
  promise.then(
    () => {
      flag.settled = true;
    },
    () => {
      flag.settled = true;
    },
  );
  return flag;
}

/** A subscription read item by item, with a timeout instead of a hang when nothing comes. */
async function subscribe<T>(start: (signal: AbortSignal) => Promise<AsyncIterable<T>>) {
  const controller = new AbortController();
  const iterator = (await start(controller.signal))[Symbol.asyncIterator]();
  // A read that timed out stays pending; the next read takes over its event instead of losing it.
  let pending: Promise<IteratorResult<T>> | undefined;
  return {
    async next(timeoutMs = 3_000): Promise<T> {
      pending ??= iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
      pending = undefined;
      if (result.done) throw new Error("subscription ended");
      return result.value;
    },
    /** Resolves true if an event arrives within `ms` (and takes it), false otherwise. */
    async anyWithin(ms: number) {
      return this.next(ms).then(
        () => true,
        () => false,
      );
    },
    stop: () => controller.abort(),
  };
}

/** createCaller hands out tracked events as `[id, data]`. */
const dataOf = <T>(event: unknown) => (event as [string, T])[1];

beforeAll(prepareTestDatabases);

describe.each(testBackends)("live chat on %s", (backend) => {
  describe("typing", () => {
    it("is for participants only", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      await expect(app.as("stranger").chat.typing({ conversationId, isTyping: true })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(app.as("stranger").chat.onTyping({ conversationId })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(app.as(null).chat.typing({ conversationId, isTyping: true })).rejects.toMatchObject({
        code: "UNAUTHORIZED",
      });
      await expect(app.as("seeker").chat.typing({ conversationId: "nope", isTyping: true })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    });

    it("tells the other participant, drops repeats within the throttle window, and hides one's own typing", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const provider = await subscribe((signal) => app.as("provider", { signal }).chat.onTyping({ conversationId }));
      const seekerOtherDevice = await subscribe((signal) =>
        app.as("seeker", { signal }).chat.onTyping({ conversationId }),
      );
      const seeker = app.as("seeker");

      expect(await seeker.chat.typing({ conversationId, isTyping: true })).toMatchObject({ throttled: false });
      expect(await provider.next()).toEqual({ conversationId, userId: "seeker", isTyping: true });
      for (let i = 0; i < 5; i++) {
        expect(await seeker.chat.typing({ conversationId, isTyping: true })).toMatchObject({ throttled: true });
      }
      await seeker.chat.typing({ conversationId, isTyping: false });
      expect(await provider.next()).toEqual({ conversationId, userId: "seeker", isTyping: false });
      expect(await seekerOtherDevice.anyWithin(200)).toBe(false);
    });

    it("expires a typing state that is not renewed, and keeps one that is", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const provider = await subscribe((signal) => app.as("provider", { signal }).chat.onTyping({ conversationId }));
      const seeker = app.as("seeker");

      await seeker.chat.typing({ conversationId, isTyping: true });
      expect(await provider.next()).toMatchObject({ isTyping: true });
      const next = provider.next(60_000);
      const seen = settledFlag(next);
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      try {
        // Renewed every 200 ms for 1.2 s: one "typing", no expiry in between.
        for (let i = 0; i < 6; i++) {
          await vi.advanceTimersByTimeAsync(200);
          await seeker.chat.typing({ conversationId, isTyping: true });
        }
        // The typist vanishes: the watcher sees "stopped" exactly `expireMs` after the last renewal.
        await vi.advanceTimersByTimeAsync(fast.typing.expireMs - 1);
        expect(seen.settled).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        expect(await next).toEqual({ conversationId, userId: "seeker", isTyping: false });
      } finally {
        vi.useRealTimers();
      }
    });

    it("ends typing when the typist sends the message", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const provider = await subscribe((signal) => app.as("provider", { signal }).chat.onTyping({ conversationId }));
      await app.as("seeker").chat.typing({ conversationId, isTyping: true });
      expect(await provider.next()).toMatchObject({ isTyping: true });
      await app.as("seeker").chat.sendMessage({ conversationId, content: "done typing" });
      expect(await provider.next(200)).toMatchObject({ userId: "seeker", isTyping: false });
      // Not typing, a send publishes no typing event at all (with Redis, that is a publish saved per message).
      const publish = vi.spyOn(app.bus, "publish");
      await app.as("seeker").chat.sendMessage({ conversationId, content: "and another" });
      await app.as("provider").chat.sendMessage({ conversationId, content: "a reply" });
      expect(publish.mock.calls.map(([topic]) => topic.name)).not.toContain(topics.typing(conversationId).name);
      expect(await provider.anyWithin(200)).toBe(false);
    });
  });

  describe("delivery", () => {
    it("moves a message sent → delivered (live) → read, and tells the sender", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const receipts = await subscribe((signal) =>
        app.as("seeker", { signal }).chat.onMessagesDelivered({ conversationId }),
      );
      const sent = await app.as("seeker").chat.sendMessage({ conversationId, content: "hello" });
      const statusOf = async () =>
        (await app.as("seeker").chat.messages({ conversationId })).messages.find((m) => m.id === sent.messageId)
          ?.status;
      expect(await statusOf()).toBe("sent");

      const inbox = await subscribe((signal) => app.as("provider", { signal }).chat.onMessage({ conversationId }));
      await app.as("seeker").chat.sendMessage({ conversationId, content: "are you there?" });
      expect(dataOf<{ content: string }>(await inbox.next()).content).toBe("are you there?");
      const receipt = await receipts.next();
      expect(receipt).toMatchObject({ conversationId, receiverId: "provider", messageIds: [expect.any(String)] });
      expect(receipt.deliveredAt).toBeInstanceOf(Date);
      // The first one was sent before the subscription: it is not delivered by this stream.
      expect(await statusOf()).toBe("sent");

      await app.as("provider").chat.markRead({ conversationId });
      expect(await statusOf()).toBe("read");
      const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } });
      expect(stored.deliveredAt).toEqual(stored.readAt); // read implies delivered
    });

    it("marks a catch-up as delivered with one batch, and history loaded by the receiver too", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const seeker = app.as("seeker");
      const first = await seeker.chat.sendMessage({ conversationId, content: "seen before" });
      for (let i = 0; i < 30; i++) await seeker.chat.sendMessage({ conversationId, content: `while away ${i}` });
      const receipts = await subscribe((signal) =>
        app.as("seeker", { signal }).chat.onMessagesDelivered({ conversationId }),
      );

      const inbox = await subscribe((signal) =>
        app.as("provider", { signal }).chat.onMessage({ conversationId, lastEventId: first.messageId }),
      );
      for (let i = 0; i < 30; i++) await inbox.next();
      // One UPDATE per batch, and each UPDATE reports what it marked: one receipt for all thirty.
      expect((await receipts.next()).messageIds).toHaveLength(30);
      expect(await receipts.anyWithin(200)).toBe(false);

      // The seeker's own messages (Naafe's opening notice is to nobody, so never delivered).
      const bySeeker = (page: { messages: { senderId: string; status: string }[] }) =>
        page.messages.filter((m) => m.senderId === "seeker").map((m) => m.status);
      const statuses = bySeeker(await seeker.chat.messages({ conversationId, limit: 100 }));
      expect(statuses).toEqual(["sent", ...Array(30).fill("delivered")]);
      // Loading history is receiving it.
      const history = bySeeker(await app.as("provider").chat.messages({ conversationId, limit: 100 }));
      expect(history).toEqual(Array(31).fill("delivered"));
      expect((await receipts.next()).messageIds).toEqual([first.messageId]);
    });

    it("shows a message on the sender's other devices, which does not count as delivered", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const phone = await subscribe((signal) => app.as("seeker", { signal }).chat.onMessage({ conversationId }));
      const laptop = app.as("seeker");
      const receipts = await subscribe((signal) =>
        app.as("provider", { signal }).chat.onMessagesDelivered({ conversationId }),
      );
      const sent = await laptop.chat.sendMessage({ conversationId, content: "from my laptop" });
      expect(dataOf<{ messageId: string }>(await phone.next()).messageId).toBe(sent.messageId);
      // A reply the phone gets is delivered: once its receipt is out, the laptop's message was settled too.
      const reply = await app.as("provider").chat.sendMessage({ conversationId, content: "got it" });
      expect(dataOf<{ messageId: string }>(await phone.next()).messageId).toBe(reply.messageId);
      expect((await receipts.next()).messageIds).toEqual([reply.messageId]);
      const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } });
      expect(stored.deliveredAt).toBeNull();
      await expect(app.as("stranger").chat.onMessagesDelivered({ conversationId })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    });

    it("leaves out only what its own connection sent when asked (echo: false)", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const laptop = app.connection("seeker");
      const quiet = await subscribe((signal) => laptop({ signal }).chat.onMessage({ conversationId, echo: false }));
      const everything = await subscribe((signal) => laptop({ signal }).chat.onMessage({ conversationId }));
      const mine = await laptop().chat.sendMessage({ conversationId, content: "from this laptop" });
      const phone = await app.as("seeker").chat.sendMessage({ conversationId, content: "from my phone" });
      const reply = await app.as("provider").chat.sendMessage({ conversationId, content: "from the provider" });
      const idOf = (event: unknown) => dataOf<{ messageId: string }>(event).messageId;
      expect([idOf(await quiet.next()), idOf(await quiet.next())]).toEqual([phone.messageId, reply.messageId]);
      expect(await quiet.anyWithin(150)).toBe(false);
      const all = [idOf(await everything.next()), idOf(await everything.next()), idOf(await everything.next())];
      expect(all).toEqual([mine.messageId, phone.messageId, reply.messageId]);
    });

    it("reports a message delivered once when two devices of the receiver get it", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      const receipts = await subscribe((signal) =>
        app.as("seeker", { signal }).chat.onMessagesDelivered({ conversationId }),
      );
      const phone = await subscribe((signal) => app.as("provider", { signal }).chat.onMessage({ conversationId }));
      const tablet = await subscribe((signal) => app.as("provider", { signal }).chat.onMessage({ conversationId }));
      const sent = await app.as("seeker").chat.sendMessage({ conversationId, content: "both of you" });
      await Promise.all([phone.next(), tablet.next()]);
      expect((await receipts.next()).messageIds).toEqual([sent.messageId]);
      expect(await receipts.anyWithin(200)).toBe(false);
    });
  });

  describe("presence", () => {
    it("counts several connections as one presence and reports last seen", async () => {
      await using app = await createTestApp(backend, fast);
      const { conversation } = await app.openConversation();
      const conversationId = conversation.id;
      await expect(app.as("stranger").chat.onPresence({ conversationId })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      const watch = await subscribe((signal) => app.as("provider", { signal }).chat.onPresence({ conversationId }));
      expect(await watch.next()).toEqual({ conversationId, userId: "seeker", online: false, lastSeen: null });

      const closeTab = app.services.presence.connect("seeker");
      expect(await watch.next()).toMatchObject({ userId: "seeker", online: true, lastSeen: null });
      const closePhone = app.services.presence.connect("seeker");
      closeTab();
      expect(await watch.anyWithin(200)).toBe(false);
      const before = Date.now();
      closePhone();
      const offline = await watch.next();
      expect(offline).toMatchObject({ userId: "seeker", online: false });
      expect(offline.lastSeen?.getTime()).toBeGreaterThanOrEqual(before - 5);
      // A late subscriber starts from the current state.
      const late = await subscribe((signal) => app.as("provider", { signal }).chat.onPresence({ conversationId }));
      expect(await late.next()).toMatchObject({ online: false, lastSeen: offline.lastSeen });
    });

    it("waits out the grace period, so a page reload does not flicker", async () => {
      await using app = await createTestApp(backend, { presence: { ...fast.presence, graceMs: 300 } });
      const { conversation } = await app.openConversation();
      const watch = await subscribe((signal) =>
        app.as("provider", { signal }).chat.onPresence({ conversationId: conversation.id }),
      );
      await watch.next();
      const close = app.services.presence.connect("seeker");
      expect(await watch.next()).toMatchObject({ online: true });
      close();
      const reopened = app.services.presence.connect("seeker");
      expect(await watch.anyWithin(500)).toBe(false);
      reopened();
      expect(await watch.next(1_000)).toMatchObject({ online: false });
    });

    it("takes the users of an instance that died offline once its records expire", async () => {
      const store = createMemoryPresenceStore();
      await using app = await createTestApp(backend, { ...fast, presenceStore: store });
      const { conversation } = await app.openConversation();
      // Another instance registered the seeker, renewed once, and died without a goodbye.
      const now = Date.now();
      await store.join("seeker", "dead-instance", now, now + fast.presence.expireMs);
      const watch = await subscribe((signal) =>
        app.as("provider", { signal }).chat.onPresence({ conversationId: conversation.id }),
      );
      expect(await watch.next()).toMatchObject({ online: true });
      const offline = await watch.next(fast.presence.expireMs + 1_000);
      expect(offline).toMatchObject({ online: false, lastSeen: new Date(now) });
    });
  });
});
