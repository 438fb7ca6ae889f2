import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { publishBestEffort } from "../platform/bus/event-bus.ts";
import { createTestApp } from "../testing.ts";
import { closeConversationsAfterGrace } from "./closing.ts";
import { manualClock, moderatorToken, reader, trackedData, trackedId } from "./test-helpers.ts";

beforeAll(prepareTestDatabases);

const MINUTE = 60_000;

describe.each(testBackends)("edit and delete on %s", (backend) => {
  it("the other side sees an edit live (masked), history shows it edited, moderators keep the original", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const sent = await app.as("provider").chat.sendMessage({ conversationId, content: "see you at 5" });
    const changes = await reader((signal) => app.as("seeker", { signal }).chat.onMessageChanged({ conversationId }));

    await app.as("provider").chat.editMessage({ messageId: sent.messageId, content: "call 01001234567" });
    const change = await changes.next();
    expect(trackedData(change)).toMatchObject({ kind: "edited", messageId: sent.messageId, masked: true });
    expect(trackedData<{ content: string }>(change).content).not.toMatch(/\d{4}/);
    changes.stop();

    const seen = (await app.as("seeker").chat.messages({ conversationId })).messages.find(
      (m) => m.id === sent.messageId,
    );
    expect(seen).toMatchObject({ edited: true, masked: true });
    const [listed] = (await app.as("seeker").chat.conversations()).conversations;
    expect(listed?.lastMessage).toMatchObject({ masked: true });
    const read = await app.as(null, { token: moderatorToken() }).moderation.conversation({ conversationId });
    const original = read.messages.find((m) => m.id === sent.messageId);
    expect(original?.content).toBe("call 01001234567");
    expect(original?.changes.map((c) => c.previousContent)).toEqual(["see you at 5"]);

    // Resuming after the change replays nothing; resuming from before it is not possible without an id, so from the change's own id.
    const resumed = await reader((signal) =>
      app.as("seeker", { signal }).chat.onMessageChanged({ conversationId, lastEventId: trackedId(change) }),
    );
    await app.as("provider").chat.deleteMessage({ messageId: sent.messageId });
    expect(trackedData(await resumed.next())).toMatchObject({ kind: "deleted", content: "" });
    resumed.stop();
  });

  it("a deleted unread last message stops counting and shows as deleted in the list", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    await app.as("provider").chat.sendMessage({ conversationId, content: "first" });
    const second = await app.as("provider").chat.sendMessage({ conversationId, content: "oops wrong chat" });
    expect(await app.as("seeker").chat.unreadCount()).toEqual({ total: 2 });
    await app.as("provider").chat.deleteMessage({ messageId: second.messageId });
    expect(await app.as("seeker").chat.unreadCount()).toEqual({ total: 1 });
    const [listed] = (await app.as("seeker").chat.conversations()).conversations;
    expect(listed).toMatchObject({ unreadCount: 1, lastMessage: { deleted: true, content: "" } });
    const messages = (await app.as("seeker").chat.messages({ conversationId })).messages;
    expect(messages.map((m) => [m.content, m.deleted])).toEqual([
      ["Offer accepted: 120 EGP", false],
      ["first", false],
      ["", true],
    ]);
    // Catch-up from the start (the notice the conversation opened with) never hands out the deleted text.
    const live = await reader((signal) =>
      app.as("seeker", { signal }).chat.onMessage({ conversationId, lastEventId: messages[0]?.id ?? null }),
    );
    expect(trackedData(await live.next())).toMatchObject({ deleted: false, content: "first" });
    expect(trackedData(await live.next())).toMatchObject({ deleted: true, content: "" });
    live.stop();
  });

  it("editing after the window is FORBIDDEN and changes nothing", async () => {
    const clock = manualClock();
    await using app = await createTestApp(backend, { now: clock.now });
    const { conversation } = await app.openConversation();
    const sent = await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "original" });
    clock.advance(15 * MINUTE + 1);
    await expect(
      app.as("provider").chat.editMessage({ messageId: sent.messageId, content: "changed" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("15 minutes") });
    await expect(app.as("provider").chat.deleteMessage({ messageId: sent.messageId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } });
    expect(stored).toMatchObject({ content: "original", editedAt: null, deletedAt: null });
  });

  it("editing to 2,001 characters is a BAD_REQUEST", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const sent = await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "short" });
    await expect(
      app.as("provider").chat.editMessage({ messageId: sent.messageId, content: "a".repeat(2001) }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("at most 2000") });
    expect(await app.db.prisma.messageChange.count()).toBe(0);
  });

  it("deleting someone else's message is FORBIDDEN; a stranger is told it does not exist", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const sent = await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "mine" });
    await expect(app.as("seeker").chat.deleteMessage({ messageId: sent.messageId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(app.as("stranger").chat.deleteMessage({ messageId: sent.messageId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } })).deletedAt).toBeNull();
  });
});

describe.each(testBackends)("closing by the marketplace flow on %s", (backend) => {
  it("only the seeker moves the job's status, once", async () => {
    await using app = await createTestApp(backend);
    const { job } = await app.openConversation();
    await expect(
      app.as("provider").jobRequest.setStatus({ jobRequestId: job.id, status: "completed" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await app.as("seeker").jobRequest.setStatus({ jobRequestId: job.id, status: "completed" });
    await expect(
      app.as("seeker").jobRequest.setStatus({ jobRequestId: job.id, status: "cancelled" }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    const open = await app.as("seeker").jobRequest.create({ title: "Not started yet" });
    await expect(
      app.as("seeker").jobRequest.setStatus({ jobRequestId: open.id, status: "completed" }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("closes the conversation after the grace period with a notice, and not again once a moderator reopened it", async () => {
    const clock = manualClock();
    const graceMs = 60 * MINUTE;
    await using app = await createTestApp(backend, { now: clock.now, moderation: { closeGraceMs: graceMs } });
    const { job, conversation } = await app.openConversation();
    const conversationId = conversation.id;
    await app.as("seeker").jobRequest.setStatus({ jobRequestId: job.id, status: "completed" });
    const deps = { prisma: app.db.prisma, publish: publishBestEffort(app.bus, () => {}), graceMs };

    expect(await closeConversationsAfterGrace(deps, new Date(clock.now().getTime() + graceMs - 1_000))).toEqual({
      closed: 0,
    });
    await expect(app.as("provider").chat.sendMessage({ conversationId, content: "thanks!" })).resolves.toBeTruthy();

    const later = new Date(clock.now().getTime() + graceMs);
    expect(await closeConversationsAfterGrace(deps, later)).toEqual({ closed: 1 });
    expect(await closeConversationsAfterGrace(deps, later)).toEqual({ closed: 0 });
    const view = await app.as("seeker").chat.conversation({ conversationId });
    expect(view).toMatchObject({
      isActive: false,
      lastMessage: { content: "This job was marked completed; the conversation is now read-only." },
    });
    await expect(app.as("provider").chat.sendMessage({ conversationId, content: "one more" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });

    clock.advance(2 * graceMs);
    await app
      .as(null, { token: moderatorToken() })
      .moderation.reopenConversation({ conversationId, reason: "dispute" });
    expect(await closeConversationsAfterGrace(deps, new Date(clock.now().getTime() + 10 * graceMs))).toEqual({
      closed: 0,
    });
    expect((await app.as("seeker").chat.conversation({ conversationId })).isActive).toBe(true);
  });
});
