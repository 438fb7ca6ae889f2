import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "../testing.ts";

beforeAll(prepareTestDatabases);

// A transaction of someone else's holding a conversation row: only PostgreSQL has other
// connections (PGlite is one connection, so nothing can hold a row beside the server).
describe.skipIf(!testBackends.includes("postgres"))("a conversation row held by another transaction", () => {
  it("fails only that conversation's sends (retryable); the others in the same batch are stored", async () => {
    await using app = await createTestApp("postgres");
    const pairs = Array.from({ length: 9 }, (_, n) => [`seeker-${n}`, `provider-${n}`] as const);
    const conversations = [];
    for (const [seeker, provider] of pairs) {
      const { conversation } = await app.openConversation(seeker, provider);
      // A first message each, so the participants are known and the sends below go out together.
      await app.as(seeker).chat.sendMessage({ conversationId: conversation.id, content: "hello" });
      conversations.push({ id: conversation.id, seeker });
    }
    const [held, ...others] = conversations;
    if (!held) throw new Error("no conversation");

    // Someone else's transaction (Prisma's connections are not the sends') holds one row.
    await app.db.prisma.$transaction(
      async (outsider) => {
        await outsider.$queryRaw`SELECT 1 FROM "Conversation" WHERE "id" = ${held.id} FOR UPDATE`;
        // All submitted in one turn, so they share one statement with the held conversation's.
        const heldSend = app
          .as(held.seeker)
          .chat.sendMessage({ conversationId: held.id, content: "stuck", clientMessageId: "held-1" });
        const otherSends = others.map((conversation) =>
          app.as(conversation.seeker).chat.sendMessage({ conversationId: conversation.id, content: "free" }),
        );
        // Stored while the row is still held (without the split they wait for it, then time out).
        const stored = await Promise.all(otherSends);
        expect(stored.map((message) => message.seq)).toEqual(others.map(() => 3)); // after the notice and "hello"
        await expect(heldSend).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
      },
      { timeout: 30_000 },
    );

    // The retry goes through once; nothing was stored twice or counted twice.
    const retried = await app
      .as(held.seeker)
      .chat.sendMessage({ conversationId: held.id, content: "stuck", clientMessageId: "held-1" });
    expect(retried.seq).toBe(3);
    const rows = await app.db.prisma.conversation.findMany({ where: { id: { in: conversations.map((c) => c.id) } } });
    for (const row of rows) expect(row).toMatchObject({ messageCount: 3, unreadCountProvider: 2 });
    expect(await app.db.prisma.message.count({ where: { type: "text" } })).toBe(18);
  });
});
