import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import sharp from "sharp";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDiskStorage } from "../platform/storage.ts";
import { createTestApp } from "../testing.ts";
import { cleanFileName } from "./checks.ts";
import { attachmentWorkers } from "./cleanup.ts";

beforeAll(prepareTestDatabases);

const pdf = Buffer.from("%PDF-1.4\n%%EOF\n");
const png = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: "#0a0" } })
    .png()
    .toBuffer();

describe("cleanFileName", () => {
  it("keeps the last path segment only, without control characters or leading dots", () => {
    expect(cleanFileName("../../etc/passwd")).toBe("passwd");
    expect(cleanFileName("C:\\Users\\sara\\quote.pdf")).toBe("quote.pdf");
    expect(cleanFileName("..hidden")).toBe("hidden");
    expect(cleanFileName("a\u200Fb.txt")).toBe("ab.txt");
    expect(cleanFileName("../")).toBe("file");
    expect(cleanFileName("صورة الحائط.jpg")).toBe("صورة الحائط.jpg");
  });
});

describe.each(testBackends)("attachments router on %s", (backend) => {
  let dir = "";
  let clock = new Date("2026-12-04T10:00:00Z");
  const WINDOW_MS = 60 * 60_000;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "attachments-router-"));
    clock = new Date("2026-12-04T10:00:00Z");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function setUp(limits: { dailyBytes?: number } = {}) {
    const storage = createDiskStorage(dir);
    const app = await createTestApp(backend, {
      now: () => clock,
      attachments: { storage, urlSecret: "router-test-secret-long-enough-for-hmac", bindWindowMs: WINDOW_MS, limits },
    });
    const { conversation } = await app.openConversation();
    /** Starts an upload as `user` and sends its bytes to the server's own route. */
    async function upload(user: string, name: string, mimeType: string, bytes: Buffer) {
      const target = await app
        .as(user)
        .chat.createUpload({ conversationId: conversation.id, name, size: bytes.length, mimeType });
      const url = new URL(target.url, "http://localhost");
      await app.services.attachments.receive(
        target.uploadId,
        url.searchParams.get("expires"),
        url.searchParams.get("signature"),
        Readable.from([bytes]),
      );
      return target.uploadId;
    }
    const files = async () => (await readdir(dir, { recursive: true })).filter((name) => name.includes("/"));
    return { app, storage, conversationId: conversation.id, upload, files };
  }

  it("createUpload: participants only; the declared size and the daily quota are checked first", async () => {
    const { app, conversationId } = await setUp({ dailyBytes: 1000 });
    await using _app = app;
    const stranger = app
      .as("stranger")
      .chat.createUpload({ conversationId, name: "a.pdf", size: 10, mimeType: "application/pdf" });
    await expect(stranger).rejects.toMatchObject({ code: "FORBIDDEN" });
    const huge = app.as("seeker").chat.createUpload({
      conversationId,
      name: "film.jpg",
      size: 11 * 1024 * 1024,
      mimeType: "image/jpeg",
    });
    await expect(huge).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      message: expect.stringMatching(/film\.jpg/),
    });
    const target = await app
      .as("seeker")
      .chat.createUpload({ conversationId, name: "a.pdf", size: 900, mimeType: "application/pdf" });
    expect(target).toMatchObject({
      method: "PUT",
      url: expect.stringMatching(/^\/uploads\/.+\?expires=\d+&signature=/),
    });
    const overQuota = app
      .as("seeker")
      .chat.createUpload({ conversationId, name: "b.pdf", size: 200, mimeType: "application/pdf" });
    await expect(overQuota).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      message: expect.stringMatching(/a day/),
    });
    // The quota is per user and per 24 hours.
    await app
      .as("provider")
      .chat.createUpload({ conversationId, name: "b.pdf", size: 200, mimeType: "application/pdf" });
    clock = new Date(clock.getTime() + 24 * 3_600_000 + 1);
    await app.as("seeker").chat.createUpload({ conversationId, name: "b.pdf", size: 200, mimeType: "application/pdf" });
  });

  it("gives each message the type of what it carries, in history and on catch-up", async () => {
    const { app, conversationId, upload } = await setUp();
    await using _app = app;
    const seeker = app.as("seeker").chat;
    const text = await seeker.sendMessage({ conversationId, content: "hello" });
    const image = await seeker.sendMessage({
      conversationId,
      attachmentIds: [await upload("seeker", "a.png", "image/png", await png())],
    });
    const both = await seeker.sendMessage({
      conversationId,
      content: "photo and quote",
      attachmentIds: [
        await upload("seeker", "b.png", "image/png", await png()),
        await upload("seeker", "q.pdf", "application/pdf", pdf),
      ],
    });
    expect([text.type, image.type, both.type]).toEqual(["text", "image", "file"]);
    expect(text.attachments).toEqual([]);

    const page = await app.as("provider").chat.messages({ conversationId });
    const sent = page.messages.filter((m) => m.senderId === "seeker");
    expect(sent.map((m) => [m.type, m.attachments.map((a) => a.name)])).toEqual([
      ["text", []],
      ["image", ["a.png"]],
      ["file", ["b.png", "q.pdf"]],
    ]);
    expect(sent[1]?.attachments[0]).toMatchObject({
      width: 8,
      height: 8,
      thumbnailUrl: expect.stringContaining("/thumbnail?"),
    });

    // Catch-up reads the messages back from the database: attachments are looked up.
    const events = await app.as("provider").chat.onMessage({ conversationId, lastEventId: text.messageId });
    const caughtUp: { type: string; attachments: unknown[] }[] = [];
    for await (const event of events) {
      const data = (Array.isArray(event) ? event[1] : (event as { data: unknown }).data) as (typeof caughtUp)[number];
      caughtUp.push(data);
      if (caughtUp.length === 2) break;
    }
    expect(caughtUp.map((m) => [m.type, m.attachments.length])).toEqual([
      ["image", 1],
      ["file", 2],
    ]);
    const stored = await app.db.prisma.message.findUniqueOrThrow({ where: { id: both.messageId } });
    expect(stored.type).toBe("file");

    // The conversation list's lastMessage carries them too.
    const [listed] = (await app.as("provider").chat.conversations()).conversations;
    expect(listed?.lastMessage).toMatchObject({ content: "photo and quote", type: "file" });
    expect(listed?.lastMessage?.attachments.map((a) => a.name)).toEqual(["b.png", "q.pdf"]);
    await seeker.sendMessage({ conversationId, content: "and text" });
    const one = await app.as("seeker").chat.conversation({ conversationId });
    expect(one.lastMessage).toMatchObject({ content: "and text", type: "text", attachments: [] });
  });

  it("binds only within the window; the cleanup job deletes unsent uploads, bytes and rows, and keeps sent ones", async () => {
    const { app, conversationId, upload, storage, files } = await setUp();
    await using _app = app;
    const sentId = await upload("seeker", "sent.pdf", "application/pdf", pdf);
    await app.as("seeker").chat.sendMessage({ conversationId, attachmentIds: [sentId] });
    const lateId = await upload("seeker", "late.pdf", "application/pdf", pdf);
    const neverId = await upload("provider", "never.png", "image/png", await png());
    // The image is stored re-encoded, with its thumbnail.
    expect((await files()).sort()).toEqual(
      [`images/${neverId}`, `thumbnails/${neverId}`, `uploads/${lateId}`, `uploads/${sentId}`].sort(),
    );

    clock = new Date(clock.getTime() + WINDOW_MS + 1);
    const late = app.as("seeker").chat.sendMessage({ conversationId, content: "late", attachmentIds: [lateId] });
    await expect(late).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/late\.pdf.*too long ago/),
    });
    expect(await app.db.prisma.message.count({ where: { content: "late" } })).toBe(0);

    const [worker] = attachmentWorkers({ db: app.db, storage });
    // The job runs on the wall clock; the rows expired an hour after the test clock's start.
    await app.db.prisma.attachment.updateMany({
      where: { messageId: null },
      data: { expiresAt: new Date(Date.now() - 1) },
    });
    await worker?.run({}, { jobId: "test", retryCount: 0, signal: new AbortController().signal });
    const left = await app.db.prisma.attachment.findMany({ select: { id: true } });
    expect(left.map((row) => row.id)).toEqual([sentId]);
    expect(await files()).toEqual([`uploads/${sentId}`]);
  });

  it("gives the claim back when the message is not stored (a closed conversation)", async () => {
    const { app, conversationId, upload } = await setUp();
    await using _app = app;
    const id = await upload("seeker", "q.pdf", "application/pdf", pdf);
    await app.db.prisma.conversation.update({ where: { id: conversationId }, data: { isActive: false } });
    const send = app.as("seeker").chat.sendMessage({ conversationId, attachmentIds: [id] });
    await expect(send).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await app.db.prisma.attachment.findUniqueOrThrow({ where: { id } })).toMatchObject({ messageId: null });
  });
});
