import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { verifyTranscript } from "@naafe/transcript";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp, OPENING_SEQ } from "../testing.ts";
import { EXPORT_PAGE } from "./export.ts";

beforeAll(prepareTestDatabases);

describe.each(testBackends)("export on %s", (backend) => {
  it("reads a long conversation page by page, in seq order, in bounded chunks, up to where it started", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation("sara", "omar");
    // After the notice the conversation opened with.
    const count = OPENING_SEQ + EXPORT_PAGE * 2 + 345;
    await app.db.prisma.$executeRawUnsafe(
      `INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "timestamp", "createdAt", "updatedAt")
       SELECT 'm' || s, $1, s, 'sara', 'omar', 'رسالة رقم ' || s, now(), now(), now() FROM generate_series($3::int, $2::int) s`,
      conversation.id,
      count,
      OPENING_SEQ + 1,
    );
    await app.db.prisma.conversation.update({ where: { id: conversation.id }, data: { messageCount: count } });

    const exportable = await app.services.exports.exportable(conversation.id, "omar");
    if (!exportable) throw new Error("omar takes part in the conversation");
    const chunks: string[] = [];
    const transcript = app.services.exports.transcript(exportable, "jsonl", "omar");
    for await (const chunk of transcript) {
      // Sent while the export runs: not part of it (the chain covers what existed at the start).
      if (chunks.length === 0)
        await app.as("sara").chat.sendMessage({ conversationId: conversation.id, content: "late" });
      chunks.push(chunk);
    }
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThan(70_000);
    const lines = chunks.join("").trimEnd().split("\n");
    const seqs = lines.slice(1, -1).map((line) => JSON.parse(line).seq);
    expect(seqs).toEqual(Array.from({ length: count }, (_, index) => index + 1));
    const result = await verifyTranscript(lines, { publicKey: app.services.exports.publicKeyPem });
    expect(result).toMatchObject({ valid: true, messageCount: count });
  });

  it("does not hand out a conversation to someone outside it, nor one that does not exist", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await app.openConversation("sara", "omar");
    expect(await app.services.exports.exportable(conversation.id, "stranger")).toBeNull();
    expect(await app.services.exports.exportable("missing", "sara")).toBeNull();
    expect(await app.services.exports.exportable(conversation.id, "sara")).toMatchObject({ id: conversation.id });
  });
});
