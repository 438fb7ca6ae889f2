import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApp } from "../testing.ts";
import { reader, trackedData } from "./test-helpers.ts";

beforeAll(prepareTestDatabases);

describe.each(testBackends)("block and report on %s", (backend) => {
  it("a blocked user cannot send to the blocker (no hint why), nor see their presence or typing; unblocking undoes it", async () => {
    await using app = await createTestApp(backend, {
      typing: { expireMs: 60_000, throttleMs: 0 },
      presence: { graceMs: 0 },
    });
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    // Before the block, the provider sees the seeker online.
    const closeBefore = app.services.presence.connect("seeker");
    await vi.waitFor(async () => expect((await app.services.presence.get("seeker")).online).toBe(true));
    const before = await reader((signal) => app.as("provider", { signal }).chat.onPresence({ conversationId }));
    expect(await before.next()).toMatchObject({ online: true });
    before.stop();
    closeBefore();
    await app.as("seeker").chat.block({ userId: "provider" });

    await expect(app.as("provider").chat.sendMessage({ conversationId, content: "hello?" })).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "You cannot send messages in this conversation.",
    });
    expect(await app.countSent()).toBe(0);
    // The blocker may still write.
    await expect(app.as("seeker").chat.sendMessage({ conversationId, content: "bye" })).resolves.toBeTruthy();

    const closeSeeker = app.services.presence.connect("seeker");
    await vi.waitFor(async () => expect((await app.services.presence.get("seeker")).online).toBe(true));
    const presence = await reader((signal) => app.as("provider", { signal }).chat.onPresence({ conversationId }));
    expect(await presence.next()).toMatchObject({ online: false, lastSeen: null });
    presence.stop();
    closeSeeker();

    const typing = await reader((signal) => app.as("provider", { signal }).chat.onTyping({ conversationId }));
    await app.as("seeker").chat.typing({ conversationId, isTyping: true });
    await expect(typing.next(300)).rejects.toThrow(/no event/);
    typing.stop();

    await app.as("seeker").chat.unblock({ userId: "provider" });
    const after = await reader((signal) => app.as("provider", { signal }).chat.onTyping({ conversationId }));
    await app.as("seeker").chat.typing({ conversationId, isTyping: false });
    await app.as("seeker").chat.typing({ conversationId, isTyping: true });
    expect(await after.next()).toMatchObject({ userId: "seeker", isTyping: true });
    after.stop();
    await expect(app.as("provider").chat.sendMessage({ conversationId, content: "thanks" })).resolves.toBeTruthy();
  });

  it("blocking oneself is a BAD_REQUEST", async () => {
    await using app = await createTestApp(backend);
    await app.openConversation();
    await expect(app.as("seeker").chat.block({ userId: "seeker" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await app.db.prisma.block.count()).toBe(0);
  });

  it("blocking twice is a CONFLICT; unblocking someone not blocked, or blocking an unknown user, NOT_FOUND", async () => {
    await using app = await createTestApp(backend);
    await app.openConversation();
    await app.as("seeker").chat.block({ userId: "provider" });
    await expect(app.as("seeker").chat.block({ userId: "provider" })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await app.db.prisma.block.count()).toBe(1);
    await expect(app.as("provider").chat.unblock({ userId: "seeker" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(app.as("seeker").chat.block({ userId: "nobody-at-all" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a report keeps a snapshot of the reported message and those before it, whatever happens to them later", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    await app.as("seeker").chat.sendMessage({ conversationId, content: "hi" });
    const bad = await app.as("provider").chat.sendMessage({ conversationId, content: "pay me outside, 01001234567" });
    await app.as("provider").chat.sendMessage({ conversationId, content: "after" });
    const report = await app
      .as("seeker")
      .chat.report({ conversationId, messageId: bad.messageId, reason: "off-platform", note: "asked for cash" });
    await app.as("provider").chat.deleteMessage({ messageId: bad.messageId });
    const stored = await app.db.prisma.report.findUniqueOrThrow({ where: { id: report.reportId } });
    expect(stored).toMatchObject({
      reporterId: "seeker",
      reason: "off-platform",
      note: "asked for cash",
      status: "open",
    });
    expect((stored.snapshot as { content: string }[]).map((m) => m.content)).toEqual([
      "Offer accepted: 120 EGP",
      "hi",
      "pay me outside, 01001234567",
    ]);
  });

  it("reporting a message from another conversation is a BAD_REQUEST and stores nothing", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const other = await app.openConversation("seeker", "provider-2");
    const elsewhere = await app
      .as("provider-2")
      .chat.sendMessage({ conversationId: other.conversation.id, content: "x" });
    await expect(
      app.as("seeker").chat.report({ conversationId: conversation.id, messageId: elsewhere.messageId, reason: "spam" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await app.db.prisma.report.count()).toBe(0);
  });

  it("1,000 reports from one user in a minute are rate limited", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const seeker = app.as("seeker");
    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        seeker.chat.report({ conversationId: conversation.id, reason: "spam" }).then(
          () => "ok",
          (error: { code?: string }) => error.code,
        ),
      ),
    );
    const accepted = outcomes.filter((outcome) => outcome === "ok").length;
    expect(accepted).toBe(10);
    expect(outcomes.filter((outcome) => outcome === "TOO_MANY_REQUESTS")).toHaveLength(990);
    expect(await app.db.prisma.report.count()).toBe(10);
  });

  it("strangers cannot report a conversation", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    await expect(
      app.as("stranger").chat.report({ conversationId: conversation.id, reason: "spam" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});

describe.each(testBackends)("suspension on %s", (backend) => {
  it("is seen by the send check at once, through the cache", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "first" });
    await app.services.moderation.state.suspendedUntil("provider");
    await app.db.prisma.suspension.create({
      data: { userId: "provider", until: new Date(Date.now() + 60_000), reason: "test", moderatorId: "m" },
    });
    app.services.moderation.state.changed({ kind: "suspension", userId: "provider" });
    await expect(
      app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "second" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("suspended") });
  });
});

describe.each(testBackends)("onMessage for a blocked pair on %s", (backend) => {
  it("still delivers the blocker's own messages to the blocked user", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    await app.as("seeker").chat.block({ userId: "provider" });
    const live = await reader((signal) =>
      app.as("provider", { signal }).chat.onMessage({ conversationId: conversation.id }),
    );
    await app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "job's off" });
    expect(trackedData(await live.next())).toMatchObject({ content: "job's off" });
    live.stop();
  });
});
