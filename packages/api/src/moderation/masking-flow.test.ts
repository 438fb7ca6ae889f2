import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "../testing.ts";
import { CONTACT_MASK } from "./masking.ts";
import { moderatorToken, reader, tokenWithContact, trackedData } from "./test-helpers.ts";

const PHONE = "كلمني على 010 0123 4567";
const digits = (text: string) => text.replace(/\D/g, "");

beforeAll(prepareTestDatabases);

describe.each(testBackends)("contact masking on %s", (backend) => {
  it("masks for the receiver everywhere they read, tells the sender, and lifts once the job is completed", async () => {
    await using app = await createTestApp(backend);
    const { conversation, job } = await app.openConversation();
    const conversationId = conversation.id;
    const live = await reader((signal) => app.as("seeker", { signal }).chat.onMessage({ conversationId }));

    const sent = await app.as("provider").chat.sendMessage({ conversationId, content: PHONE });
    expect(sent).toMatchObject({ content: PHONE, maskedForReceiver: true });

    // The receiver: masked in history, live, and in the conversation list.
    const mine = <T extends { id: string }>(page: { messages: T[] }) =>
      page.messages.find((m) => m.id === sent.messageId);
    const seen = mine(await app.as("seeker").chat.messages({ conversationId }));
    expect(seen).toMatchObject({ masked: true, content: `كلمني على ${CONTACT_MASK}` });
    expect(digits(seen?.content ?? "x1")).toBe("");
    expect(trackedData(await live.next())).toMatchObject({ masked: true, content: `كلمني على ${CONTACT_MASK}` });
    const [listed] = (await app.as("seeker").chat.conversations()).conversations;
    expect(listed?.lastMessage).toMatchObject({ masked: true, content: `كلمني على ${CONTACT_MASK}` });
    expect((await app.as("seeker").chat.conversation({ conversationId })).lastMessage?.content).not.toContain("4567");

    // The sender sees their own text and a flag for the notice.
    const own = mine(await app.as("provider").chat.messages({ conversationId }));
    expect(own).toMatchObject({ content: PHONE, masked: false, maskedForReceiver: true });
    expect((await app.as("provider").chat.conversations()).conversations[0]?.lastMessage?.content).toBe(PHONE);

    // Stored as sent.
    expect((await app.db.prisma.message.findUniqueOrThrow({ where: { id: sent.messageId } })).content).toBe(PHONE);

    // The seeker completes the job: the same messages read unmasked, also on the open subscription.
    await app.as("seeker").jobRequest.setStatus({ jobRequestId: job.id, status: "completed" });
    expect(mine(await app.as("seeker").chat.messages({ conversationId }))).toMatchObject({
      content: PHONE,
      masked: false,
    });
    expect((await app.as("seeker").chat.conversations()).conversations[0]?.lastMessage?.content).toBe(PHONE);
    await app.as("provider").chat.sendMessage({ conversationId, content: "my email omar@gmail.com" });
    expect(trackedData(await live.next())).toMatchObject({ content: "my email omar@gmail.com", masked: false });
    live.stop();
  });

  it("leaves ordinary messages alone: prices, dates and times", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const content = "السعر 350 EGP يوم 12/05/2024 الساعة 10:30";
    await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content });
    const seen = (await app.as("seeker").chat.messages({ conversationId: conversation.id })).messages.at(-1);
    expect(seen).toMatchObject({ content, masked: false, maskedForReceiver: false });
  });

  it("CONTACT_MASKING=never never masks; always masks even after completion", async () => {
    for (const [mode, expected] of [
      ["never", false],
      ["always", true],
    ] as const) {
      await using app = await createTestApp(backend, { moderation: { contactMasking: mode } });
      const { conversation, job } = await app.openConversation();
      await app.as("seeker").jobRequest.setStatus({ jobRequestId: job.id, status: "completed" });
      await app.as("provider").chat.sendMessage({ conversationId: conversation.id, content: "+20 100 123 4567" });
      const seen = (await app.as("seeker").chat.messages({ conversationId: conversation.id })).messages.at(-1);
      expect(seen?.masked, mode).toBe(expected);
      const [listed] = (await app.as("seeker").chat.conversations()).conversations;
      expect(listed?.lastMessage?.masked, mode).toBe(expected);
    }
  });

  it("shareContact posts the sharer's details unmasked to the other side, and moderators see it", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    const conversationId = conversation.id;
    const provider = app.as(null, {
      token: tokenWithContact("provider", "Omar", "+20 100 123 4567", "omar@example.com"),
    });
    const shared = await provider.chat.shareContact({ conversationId });
    expect(shared.content).toContain("+20 100 123 4567");

    const seen = (await app.as("seeker").chat.messages({ conversationId })).messages.at(-1);
    expect(seen).toMatchObject({ type: "system", masked: false, senderId: "provider", receiverId: "seeker" });
    expect(seen?.content).toContain("+20 100 123 4567");
    expect(seen?.content).toContain("omar@example.com");
    const [listed] = (await app.as("seeker").chat.conversations()).conversations;
    expect(listed).toMatchObject({ unreadCount: 1, lastMessage: { masked: false } });
    expect(listed?.lastMessage?.content).toContain("+20 100 123 4567");

    const read = await app.as(null, { token: moderatorToken() }).moderation.conversation({ conversationId });
    // After the notice the conversation opened with.
    expect(read.messages.map((message) => [message.type, message.senderId])).toEqual([
      ["system", "naafe"],
      ["system", "provider"],
    ]);
  });

  it("shareContact without a phone or email in the token is a BAD_REQUEST and posts nothing", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation();
    await expect(app.as("provider").chat.shareContact({ conversationId: conversation.id })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await app.countSent()).toBe(0);
  });
});
