import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import jwt from "jsonwebtoken";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp, TEST_SECRET } from "../testing.ts";
import { moderatorToken, reader, trackedData } from "./test-helpers.ts";

beforeAll(prepareTestDatabases);

const PHONE = "call me 01001234567";

describe.each(testBackends)("moderation on %s", (backend) => {
  it("a moderator reads a reported conversation unmasked, with every read in the audit log", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const sent = await app.as("provider").chat.sendMessage({ conversationId, content: PHONE });
    const { reportId } = await app
      .as("seeker")
      .chat.report({ conversationId, messageId: sent.messageId, reason: "off-platform" });
    const moderator = app.as(null, { token: moderatorToken("mod-1") });

    const { reports } = await moderator.moderation.reports();
    expect(reports.map((report) => report.id)).toEqual([reportId]);
    const read = await moderator.moderation.conversation({ conversationId });
    expect(read.messages.map((message) => message.content)).toEqual(["Offer accepted: 120 EGP", PHONE]);
    await moderator.moderation.resolveReport({ reportId, resolution: "warned the provider" });
    expect((await moderator.moderation.reports()).reports).toEqual([]);

    const { entries } = await moderator.moderation.auditLog();
    // Newest first; the audit read itself is recorded too.
    expect(entries.map((entry) => [entry.moderatorId, entry.action, entry.targetId])).toEqual([
      ["mod-1", "audit.read", null],
      ["mod-1", "reports.list", null],
      ["mod-1", "report.resolve", reportId],
      ["mod-1", "conversation.read", conversationId],
      ["mod-1", "reports.list", null],
    ]);
    // Why: the open report that led there, when the moderator gave no reason.
    expect(entries[3]?.reason).toBe(`open reports: ${reportId}`);
  });

  it("the audit log pages, and nobody can change or remove a row of it", async () => {
    await using app = await createTestApp(backend);
    const moderator = app.as(null, { token: moderatorToken() });
    for (let i = 0; i < 4; i++) await moderator.moderation.reports();
    const first = await moderator.moderation.auditLog({ limit: 3 });
    expect(first.entries).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    const second = await moderator.moderation.auditLog({ limit: 3, before: first.nextCursor ?? undefined });
    expect(second.entries.map((entry) => entry.action)).toEqual(["reports.list", "reports.list"]);
    await expect(app.db.prisma.moderationAudit.updateMany({ data: { reason: "edited" } })).rejects.toThrow();
    await expect(app.db.prisma.moderationAudit.deleteMany()).rejects.toThrow();
    expect(await app.db.prisma.moderationAudit.count()).toBe(6);
  });

  it("closing a conversation makes it read-only with a notice both sides see live; reopening undoes it", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const seekerLive = await reader((signal) => app.as("seeker", { signal }).chat.onMessage({ conversationId }));
    const moderator = app.as(null, { token: moderatorToken() });

    await moderator.moderation.closeConversation({ conversationId, reason: "scam attempt" });
    expect(trackedData(await seekerLive.next())).toMatchObject({
      type: "system",
      senderId: "naafe",
      content: "This conversation was closed by Naafe.",
    });
    seekerLive.stop();
    for (const user of ["seeker", "provider"]) {
      const view = await app.as(user).chat.conversation({ conversationId });
      expect(view).toMatchObject({
        isActive: false,
        lastMessage: { content: "This conversation was closed by Naafe." },
      });
      await expect(app.as(user).chat.sendMessage({ conversationId, content: "hello?" })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
    }
    await expect(moderator.moderation.closeConversation({ conversationId, reason: "again" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await moderator.moderation.reopenConversation({ conversationId, reason: "resolved with both" });
    await expect(app.as("seeker").chat.sendMessage({ conversationId, content: "thanks" })).resolves.toBeTruthy();
  });

  it("a suspended user cannot send until the suspension ends", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const moderator = app.as(null, { token: moderatorToken() });
    const until = new Date(Date.now() + 3_600_000);
    await moderator.moderation.suspendUser({ userId: "provider", until, reason: "repeated scams" });
    await expect(
      app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "hi" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("suspended") });
    await expect(
      app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content: "hi" }),
    ).resolves.toBeTruthy();
    await expect(
      moderator.moderation.suspendUser({ userId: "provider", until: new Date(Date.now() - 1_000), reason: "oops" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("resolving a report twice is a CONFLICT, an unknown one NOT_FOUND", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const { reportId } = await app.as("seeker").chat.report({ conversationId: conversation.id, reason: "spam" });
    const moderator = app.as(null, { token: moderatorToken() });
    await moderator.moderation.resolveReport({ reportId });
    await expect(moderator.moderation.resolveReport({ reportId })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(moderator.moderation.resolveReport({ reportId: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("tells both participants their conversation was reviewed only when asked, and never who reported", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const moderator = app.as(null, { token: moderatorToken() });
    const notices = async (side: string) =>
      (await app.as(side).chat.messages({ conversationId })).messages
        .filter((m) => m.type === "system")
        .map((m) => m.content);
    const first = await app.as("seeker").chat.report({ conversationId, reason: "spam" });
    await moderator.moderation.resolveReport({ reportId: first.reportId });
    expect(await notices("provider")).toEqual(["Offer accepted: 120 EGP"]);

    const second = await app.as("seeker").chat.report({ conversationId, reason: "spam" });
    await moderator.moderation.resolveReport({ reportId: second.reportId, notifyParticipants: true });
    for (const side of ["seeker", "provider"] as const) {
      expect(await notices(side)).toEqual([
        "Offer accepted: 120 EGP",
        "A Naafe moderator reviewed this conversation after a report.",
      ]);
    }
    // A notice is nobody's unread message.
    expect(await app.as("provider").chat.unreadCount()).toEqual({ total: 0 });
  });

  it("a non-moderator calling moderation.* is FORBIDDEN and reads nothing", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const user = app.as("seeker");
    const calls = [
      () => user.moderation.reports(),
      () => user.moderation.conversation({ conversationId }),
      () => user.moderation.closeConversation({ conversationId, reason: "because" }),
      () => user.moderation.reopenConversation({ conversationId, reason: "because" }),
      () =>
        user.moderation.suspendUser({ userId: "provider", until: new Date(Date.now() + 60_000), reason: "because" }),
      () => user.moderation.resolveReport({ reportId: "r" }),
      () => user.moderation.auditLog(),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await app.db.prisma.moderationAudit.count()).toBe(0);
    expect((await app.db.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } })).isActive).toBe(true);
  });

  it("a moderator token forged with the wrong key, or expired, is UNAUTHORIZED", async () => {
    await using app = await createTestApp(backend);
    const now = Math.floor(Date.now() / 1000);
    const forged = jwt.sign(
      { sub: "mod-1", role: "moderator", exp: now + 3600 },
      "a-different-secret-long-enough-for-hs256!",
      {
        algorithm: "HS256",
      },
    );
    const expired = jwt.sign({ sub: "mod-1", role: "moderator", exp: now - 60 }, TEST_SECRET, { algorithm: "HS256" });
    await expect(app.as(null, { token: forged }).moderation.reports()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringMatching(/not valid/),
    });
    await expect(app.as(null, { token: expired }).moderation.reports()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringMatching(/expired/),
    });
    expect(await app.db.prisma.moderationAudit.count()).toBe(0);
  });
});
