import { prepareTestDatabases } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "../testing.ts";

beforeAll(prepareTestDatabases);

// PGlite runs in the server's process: its queries block the event loop while they run.
describe("catch-up on PGlite, many clients resuming at once", () => {
  it("reads one small page per turn of the event loop, so everything else gets turns in between", async () => {
    await using app = await createTestApp("pglite");
    const conversationIds: string[] = [];
    for (let n = 0; n < 20; n++) {
      const { conversation } = await app.openConversation(`seeker-${n}`, `provider-${n}`);
      conversationIds.push(conversation.id);
    }
    await app.db.query(
      `INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "timestamp", "createdAt", "updatedAt")
       SELECT gen_random_uuid()::text, c."id", 1 + g, c."participantSeeker", c."participantProvider", 'missed', now(), now(), now()
       FROM "Conversation" c CROSS JOIN generate_series(1, 300) g`,
      [],
    );

    // Counts the messages read between two turns of the event loop.
    let read = 0;
    let mostInOneTurn = 0;
    let lastTurnAt = 0;
    let storm = true;
    const probe = () => {
      mostInOneTurn = Math.max(mostInOneTurn, read - lastTurnAt);
      lastTurnAt = read;
      if (storm) setImmediate(probe);
    };
    setImmediate(probe);
    await Promise.all(
      conversationIds.map(async (conversationId) => {
        for await (const _ of app.services.chat.messages.after(conversationId, 0)) read++;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve)); // the probe's turn after the last read
    storm = false;

    expect(read).toBe(20 * 301); // with each conversation's opening notice
    expect(mostInOneTurn).toBeGreaterThan(0);
    expect(mostInOneTurn).toBeLessThanOrEqual(100);
  });
});
