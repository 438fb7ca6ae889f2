import { createHmac, randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { TRPCClientError } from "@trpc/client";
import pg from "pg";
import S3rver from "s3rver";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectClient, startTestServer } from "./harness.ts";

const URL_SECRET = "attachments-e2e-url-secret-long-enough-to-sign";

type App = Awaited<ReturnType<typeof startTestServer>>;
type Client = ReturnType<typeof connectClient>["client"];

/** A conversation between sara (seeker) and omar (provider); leila is an outsider. */
async function openConversation(app: App) {
  const sara = connectClient(app.url, app.token("sara"));
  const omar = connectClient(app.url, app.token("omar"));
  const leila = connectClient(app.url, app.token("leila"));
  const job = await sara.client.jobRequest.create.mutate({ title: "Fix the leaking tap" });
  const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 350 });
  const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
  return { sara, omar, leila, conversationId: conversation.id };
}

/** A photo with EXIF (an artist's name and a place) to check that the stored copy has none. */
async function photoWithExif(width = 1200, height = 800) {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 60, b: 30 } } })
    .withExif({ IFD0: { Artist: "Sara Secret-Location", ImageDescription: "GPS 30.0444N 31.2357E" } })
    .jpeg()
    .toBuffer();
}

/** A PNG whose header claims 60,000 × 60,000 pixels with almost no data: a decompression bomb. */
function pngBomb() {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(60_000, 0);
  header.writeUInt32BE(60_000, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(60_001 * 4))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

async function upload(client: Client, conversationId: string, name: string, mimeType: string, bytes: Buffer) {
  const target = await client.chat.createUpload.mutate({ conversationId, name, size: bytes.length, mimeType });
  const response = await fetch(target.url, { method: target.method, headers: target.headers, body: bytes });
  return { target, response, body: (await response.json().catch(() => null)) as Record<string, unknown> | null };
}

async function refusal(call: Promise<unknown>) {
  const error = await call.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const { data, message } = error as { data: { code: string }; message: string };
  return { code: data.code, message };
}

/** Every file under a folder (empty when it does not exist). */
async function filesUnder(dir: string) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe("attachments on disk (the embedded default)", () => {
  let app: App;
  let people: Awaited<ReturnType<typeof openConversation>>;
  let conversationId = "";
  const dataDir = join(tmpdir(), `attachments-e2e-${randomBytes(6).toString("hex")}`);
  const storageDir = join(dataDir, "attachments");

  beforeAll(async () => {
    app = await startTestServer({ ATTACHMENT_URL_SECRET: URL_SECRET, DATA_DIR: dataDir });
    people = await openConversation(app);
    conversationId = people.conversationId;
  });

  afterAll(async () => {
    for (const person of [people?.sara, people?.omar, people?.leila]) await person?.[Symbol.asyncDispose]();
    await app?.[Symbol.asyncDispose]();
    await rm(dataDir, { recursive: true, force: true });
  });

  const rowsOf = (uploadId: string) => app.server.db.prisma.attachment.count({ where: { id: uploadId } });
  const blobsOf = async (uploadId: string) => (await filesUnder(storageDir)).filter((path) => path.includes(uploadId));

  it("sends a photo: re-encoded without EXIF, a 320 px WebP thumbnail, live to the other side", async () => {
    const { sara, omar } = people;
    const photo = await photoWithExif();
    const { target, response, body } = await upload(sara.client, conversationId, "tap.jpg", "image/jpeg", photo);
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ id: target.uploadId, mimeType: "image/jpeg", width: 1200, height: 800 });

    const sent = await sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] });
    expect(sent.type).toBe("image");
    expect(sent.content).toBe("");
    const [attachment] = sent.attachments;
    expect(attachment).toMatchObject({ id: target.uploadId, name: "tap.jpg", mimeType: "image/jpeg", width: 1200 });

    // The receiver's history has it too, with links of its own that work with a plain GET.
    const page = await omar.client.chat.messages.query({ conversationId });
    const received = page.messages.find((message) => message.id === sent.messageId);
    expect(received?.type).toBe("image");
    const view = received?.attachments[0];
    if (!view?.thumbnailUrl) throw new Error("no thumbnail link");
    const file = await fetch(view.url);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/jpeg");
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(file.headers.get("content-disposition")).toMatch(/^inline;/);
    expect(file.headers.get("content-security-policy")).toContain("default-src 'none'");
    const stored = Buffer.from(await file.arrayBuffer());
    expect(stored.includes(Buffer.from("Sara Secret-Location"))).toBe(false);
    expect(photo.includes(Buffer.from("Sara Secret-Location"))).toBe(true);
    expect((await sharp(stored).metadata()).exif).toBeUndefined();

    const thumbnail = await fetch(view.thumbnailUrl);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    const thumbnailSize = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect([thumbnailSize.format, thumbnailSize.width, thumbnailSize.height]).toEqual(["webp", 320, 213]);
  });

  it("delivers a message with text and a PDF live, as a file to download", async () => {
    const { sara, omar } = people;
    const events: { type: string; attachments: { name: string; url: string }[]; content: string }[] = [];
    let started = () => {};
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const subscription = omar.client.chat.onMessage.subscribe(
      { conversationId },
      { onStarted: () => started(), onData: (event) => events.push(event.data) },
    );
    await ready;
    const { target } = await upload(omar.client, conversationId, "quote.pdf", "application/pdf", pdf);
    const { target: photo } = await upload(
      omar.client,
      conversationId,
      "done.jpg",
      "image/jpeg",
      await photoWithExif(40, 30),
    );
    await omar.client.chat.sendMessage.mutate({
      conversationId,
      content: "The quote, and the finished job",
      attachmentIds: [target.uploadId, photo.uploadId],
    });
    void sara;
    await vi.waitFor(() => expect(events.some((event) => event.content.startsWith("The quote"))).toBe(true));
    subscription.unsubscribe();
    const event = events.find((item) => item.content.startsWith("The quote"));
    expect(event?.type).toBe("file");
    expect(event?.attachments.map((a) => a.name)).toEqual(["quote.pdf", "done.jpg"]);
    const download = await fetch(event?.attachments[0]?.url ?? "");
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/pdf");
    expect(download.headers.get("content-disposition")).toBe("attachment; filename*=UTF-8''quote.pdf");
    expect(Buffer.from(await download.arrayBuffer())).toEqual(pdf);
  });

  describe("bad input: a typed error naming the file, and nothing left behind", () => {
    it("a zero-byte file, a 10 KB name, a direction override in the name", async () => {
      const { sara } = people;
      const create = (name: string, size: number) =>
        refusal(sara.client.chat.createUpload.mutate({ conversationId, name, size, mimeType: "text/plain" }));
      expect(await create("empty.txt", 0)).toMatchObject({
        code: "BAD_REQUEST",
        message: expect.stringMatching(/empty/),
      });
      expect(await create(`${"a".repeat(10_240)}.txt`, 10)).toMatchObject({ code: "BAD_REQUEST" });
      const override = await create("invoice\u202Efdp.exe", 10);
      expect(override).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/direction overrides/) });
      expect(await app.server.db.prisma.attachment.count({ where: { uploaderId: "sara", status: "pending" } })).toBe(0);
    });

    it("a path traversal name is only a name: shown without its folders, stored under our own key", async () => {
      const { sara } = people;
      const { target, response, body } = await upload(
        sara.client,
        conversationId,
        "../../../../etc/cron.d/notes.txt",
        "text/plain",
        Buffer.from("Bring a 12 mm spanner.\n"),
      );
      expect(response.status).toBe(200);
      expect(body).toMatchObject({ name: "notes.txt", mimeType: "text/plain" });
      expect(await blobsOf(target.uploadId)).toEqual([join(storageDir, "uploads", target.uploadId)]);
    });

    it("a Unicode (Arabic) name is kept, and offered as the download name", async () => {
      const { sara } = people;
      const { target } = await upload(sara.client, conversationId, "عرض السعر.pdf", "application/pdf", pdf);
      const sent = await sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] });
      const download = await fetch(sent.attachments[0]?.url ?? "");
      expect(download.headers.get("content-disposition")).toBe(
        `attachment; filename*=UTF-8''${encodeURIComponent("عرض السعر.pdf")}`,
      );
    });

    const refusedUploads: [string, string, string, () => Buffer | Promise<Buffer>, number, RegExp][] = [
      [
        "an .exe named photo.jpg",
        "photo.jpg",
        "image/jpeg",
        () => Buffer.concat([Buffer.from("MZ\x90\x00"), Buffer.alloc(2000), Buffer.from("PE\0\0")]),
        415,
        /photo\.jpg/,
      ],
      [
        "HTML named .png",
        "cat.png",
        "image/png",
        () => Buffer.from("<!DOCTYPE html><script>alert(document.cookie)</script>"),
        415,
        /cat\.png/,
      ],
      [
        "HTML sent as plain text",
        "notes.txt",
        "text/plain",
        () => Buffer.from("  <html><body onload=alert(1)>"),
        415,
        /notes\.txt/,
      ],
      [
        "SVG",
        "logo.svg",
        "image/svg+xml",
        () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        415,
        /logo\.svg/,
      ],
      ["a decompression bomb", "huge.png", "image/png", pngBomb, 413, /huge\.png.*60000×60000/],
      [
        "a damaged image",
        "broken.jpg",
        "image/jpeg",
        async () => (await photoWithExif()).subarray(0, 600),
        415,
        /broken\.jpg/,
      ],
    ];
    it.each(refusedUploads)("%s is refused when it arrives", async (_what, name, mimeType, bytes, status, message) => {
      const { target, response, body } = await upload(
        people.sara.client,
        conversationId,
        name,
        mimeType,
        await bytes(),
      );
      expect(response.status).toBe(status);
      expect(body).toMatchObject({ error: { message: expect.stringMatching(message) } });
      expect(await rowsOf(target.uploadId)).toBe(0);
      expect(await blobsOf(target.uploadId)).toEqual([]);
      const bind = refusal(
        people.sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] }),
      );
      expect((await bind).code).toBe("NOT_FOUND");
    });

    it("more bytes than announced are cut off and refused", async () => {
      const target = await people.sara.client.chat.createUpload.mutate({
        conversationId,
        name: "a.txt",
        size: 5,
        mimeType: "text/plain",
      });
      const response = await fetch(target.url, {
        method: "PUT",
        headers: target.headers,
        body: "more than five bytes",
      });
      expect(response.status).toBe(413);
      expect(await rowsOf(target.uploadId)).toBe(0);
      expect(await blobsOf(target.uploadId)).toEqual([]);
    });

    it("a truncated upload (fewer bytes than announced) is refused", async () => {
      const text = Buffer.from("The wall is 4 by 3 metres.\n");
      const target = await people.sara.client.chat.createUpload.mutate({
        conversationId,
        name: "wall.txt",
        size: text.length + 100,
        mimeType: "text/plain",
      });
      const response = await fetch(target.url, { method: "PUT", headers: target.headers, body: text });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { message: expect.stringMatching(/wall\.txt.*incomplete/) },
      });
      expect(await rowsOf(target.uploadId)).toBe(0);
      expect(await blobsOf(target.uploadId)).toEqual([]);
    });

    it("an upload cancelled mid-stream leaves nothing", async () => {
      const size = 4 * 1024 * 1024;
      const target = await people.sara.client.chat.createUpload.mutate({
        conversationId,
        name: "big.txt",
        size,
        mimeType: "text/plain",
      });
      const url = new URL(target.url);
      const received = vi.fn();
      const put = request(url, { method: "PUT", headers: { ...target.headers, "content-length": String(size) } });
      put.on("error", received);
      put.write(Buffer.alloc(256 * 1024, "a"));
      // Cancelled once the server has started storing it.
      await vi.waitFor(async () => expect((await blobsOf(target.uploadId)).length).toBeGreaterThan(0));
      put.destroy();
      await vi.waitFor(async () => {
        expect(await rowsOf(target.uploadId)).toBe(0);
        expect(await blobsOf(target.uploadId)).toEqual([]);
      });
    });

    it("binding someone else's upload, binding twice, 11 attachments", async () => {
      const { sara, omar } = people;
      const note = Buffer.from("Tuesday at 10\n");
      const { target } = await upload(sara.client, conversationId, "when.txt", "text/plain", note);
      const stolen = refusal(omar.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] }));
      expect(await stolen).toMatchObject({ code: "NOT_FOUND" });
      const unknown = refusal(
        sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: ["no-such-upload"] }),
      );
      expect((await unknown).code).toBe("NOT_FOUND");

      await sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] });
      const again = await refusal(
        sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] }),
      );
      expect(again).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/when\.txt.*sent already/) });

      const eleven = Array.from({ length: 11 }, (_, i) => `id-${i}`);
      const tooMany = await refusal(sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: eleven }));
      expect(tooMany).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/at most 10/) });
      expect(await refusal(sara.client.chat.sendMessage.mutate({ conversationId }))).toMatchObject({
        code: "BAD_REQUEST",
      });
    });

    it("two sends racing for one upload: one message gets it", async () => {
      const { sara } = people;
      const { target } = await upload(sara.client, conversationId, "race.txt", "text/plain", Buffer.from("once\n"));
      const before = await app.server.db.prisma.message.count({ where: { conversationId } });
      const outcomes = await Promise.allSettled(
        [1, 2].map(() => sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] })),
      );
      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(["fulfilled", "rejected"]);
      expect(await app.server.db.prisma.message.count({ where: { conversationId } })).toBe(before + 1);
    });

    it("a retried send (same clientMessageId) answers with the first message", async () => {
      const { sara } = people;
      const { target } = await upload(sara.client, conversationId, "retry.pdf", "application/pdf", pdf);
      const input = { conversationId, attachmentIds: [target.uploadId], clientMessageId: "retry-1" };
      const first = await sara.client.chat.sendMessage.mutate(input);
      const second = await sara.client.chat.sendMessage.mutate(input);
      expect(second.messageId).toBe(first.messageId);
      expect(second.attachments.map((a) => a.id)).toEqual([target.uploadId]);
      expect(await app.server.db.prisma.attachment.findUnique({ where: { id: target.uploadId } })).toMatchObject({
        messageId: first.messageId,
      });
    });
  });

  it("refuses outsiders, tampered and expired links; an unknown file is 404", async () => {
    const { sara, leila } = people;
    expect((await refusal(leila.client.chat.messages.query({ conversationId }))).code).toBe("FORBIDDEN");
    const outsider = leila.client.chat.createUpload.mutate({
      conversationId,
      name: "x.pdf",
      size: 10,
      mimeType: "application/pdf",
    });
    expect((await refusal(outsider)).code).toBe("FORBIDDEN");

    const { target } = await upload(sara.client, conversationId, "plan.pdf", "application/pdf", pdf);
    const sent = await sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] });
    const url = new URL(sent.attachments[0]?.url ?? "");
    expect((await fetch(url)).status).toBe(200);

    const tampered = new URL(url);
    tampered.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
    expect((await fetch(tampered)).status).toBe(403);
    const unsigned = new URL(url);
    unsigned.search = "";
    expect((await fetch(unsigned)).status).toBe(403);

    // Validity is at most 15 minutes.
    expect(Number(url.searchParams.get("expires")) * 1000 - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    const sign = (purpose: string, id: string, expires: number) =>
      createHmac("sha256", URL_SECRET).update(`${purpose}\n${id}\n${expires}`).digest("base64url");
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = new URL(
      `${url.origin}${url.pathname}?expires=${past}&signature=${sign("file", target.uploadId, past)}`,
    );
    expect((await fetch(expired)).status).toBe(403);

    const unknown = "00000000-0000-4000-8000-000000000000";
    const future = Math.floor(Date.now() / 1000) + 60;
    const missing = `${url.origin}/uploads/${unknown}?expires=${future}&signature=${sign("file", unknown, future)}`;
    expect((await fetch(missing)).status).toBe(404);
    // An upload link is not a download link.
    const asUpload = `${url.origin}${url.pathname}?expires=${future}&signature=${sign("upload", target.uploadId, future)}`;
    expect((await fetch(asUpload)).status).toBe(403);
  });
});

/** A local S3-compatible server (s3rver) on a free port, with an empty bucket. */
async function startS3() {
  const directory = join(tmpdir(), `attachments-s3-${randomBytes(6).toString("hex")}`);
  const s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory });
  const { port } = await s3rver.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = "naafe-attachments";
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: credentials.accessKeyId,
      S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    /** The keys stored for an upload id. */
    async keysOf(uploadId: string) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key ?? "").filter((key) => key.includes(uploadId));
    },
    async close() {
      client.destroy();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

describe("attachments in S3 (s3rver, through the AWS SDK over HTTP)", () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let app: App;
  let people: Awaited<ReturnType<typeof openConversation>>;

  beforeAll(async () => {
    s3 = await startS3();
    app = await startTestServer({ ...s3.env, ATTACHMENT_URL_SECRET: URL_SECRET });
    people = await openConversation(app);
  });

  afterAll(async () => {
    for (const person of [people?.sara, people?.omar, people?.leila]) await person?.[Symbol.asyncDispose]();
    await app?.[Symbol.asyncDispose]();
    await s3?.close();
  });

  it("uploads straight to the bucket by presigned PUT; checked when sent; downloaded through the server", async () => {
    const { sara, omar, conversationId } = people;
    const photo = await photoWithExif(640, 480);
    const { target, response } = await upload(sara.client, conversationId, "wall.jpg", "image/jpeg", photo);
    expect(new URL(target.url).origin).toBe(s3.env.S3_ENDPOINT);
    expect(response.status).toBe(200);
    expect(await s3.keysOf(target.uploadId)).toEqual([`uploads/${target.uploadId}`]);

    const sent = await sara.client.chat.sendMessage.mutate({
      conversationId,
      content: "The wall to paint",
      attachmentIds: [target.uploadId],
    });
    expect(sent).toMatchObject({ type: "image", attachments: [{ width: 640, height: 480, mimeType: "image/jpeg" }] });
    expect((await s3.keysOf(target.uploadId)).sort()).toEqual([
      `images/${target.uploadId}`,
      `thumbnails/${target.uploadId}`,
    ]);

    const page = await omar.client.chat.messages.query({ conversationId });
    const view = page.messages.at(-1)?.attachments[0];
    const file = await fetch(view?.url ?? "");
    expect(file.status).toBe(200);
    const stored = Buffer.from(await file.arrayBuffer());
    expect(stored.includes(Buffer.from("Sara Secret-Location"))).toBe(false);
    expect((await sharp(stored).metadata()).width).toBe(640);
    expect((await fetch(view?.thumbnailUrl ?? "")).headers.get("content-type")).toBe("image/webp");
  });

  it("a lying file is refused when sent, naming it, and deleted from the bucket", async () => {
    const { sara, conversationId } = people;
    const html = Buffer.from("<!doctype html><h1>not a picture</h1>");
    const { target } = await upload(sara.client, conversationId, "kitchen.png", "image/png", html);
    const refused = await refusal(
      sara.client.chat.sendMessage.mutate({ conversationId, content: "see", attachmentIds: [target.uploadId] }),
    );
    expect(refused).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE", message: expect.stringMatching(/kitchen\.png/) });
    expect(await s3.keysOf(target.uploadId)).toEqual([]);
    expect(await app.server.db.prisma.attachment.count({ where: { id: target.uploadId } })).toBe(0);
    const messages = await app.server.db.prisma.message.count({ where: { conversationId, content: "see" } });
    expect(messages).toBe(0);
  });

  it("a truncated S3 upload is refused (by S3, or when sent) and leaves nothing", async () => {
    const { sara, conversationId } = people;
    const target = await sara.client.chat.createUpload.mutate({
      conversationId,
      name: "short.txt",
      size: 100,
      mimeType: "text/plain",
    });
    await fetch(target.url, { method: "PUT", body: "only a few bytes" }).catch(() => null);
    const refused = await refusal(
      sara.client.chat.sendMessage.mutate({ conversationId, attachmentIds: [target.uploadId] }),
    );
    expect(refused.code).toMatch(/BAD_REQUEST/);
    expect(await s3.keysOf(target.uploadId)).toEqual([]);
  });

  it.runIf(process.env["DATABASE_URL"])("two instances: uploaded through A, downloaded through B", async () => {
    const schema = `attachments_e2e_${randomBytes(4).toString("hex")}`;
    const shared = {
      ...s3.env,
      ATTACHMENT_URL_SECRET: URL_SECRET,
      DATABASE_URL: process.env["DATABASE_URL"] ?? "",
      DATABASE_SCHEMA: schema,
    };
    const a = await startTestServer(shared);
    const b = await startTestServer(shared);
    try {
      const seeker = connectClient(a.url, a.token("sara"));
      const provider = connectClient(b.url, b.token("omar"));
      const job = await seeker.client.jobRequest.create.mutate({ title: "Paint the wall" });
      const offer = await provider.client.offer.create.mutate({ jobRequestId: job.id, price: 900 });
      const { conversation } = await seeker.client.offer.accept.mutate({ offerId: offer.id });
      const { target } = await upload(seeker.client, conversation.id, "quote.pdf", "application/pdf", pdf);
      await seeker.client.chat.sendMessage.mutate({
        conversationId: conversation.id,
        attachmentIds: [target.uploadId],
      });
      const page = await provider.client.chat.messages.query({ conversationId: conversation.id });
      const url = new URL(page.messages.at(-1)?.attachments[0]?.url ?? "");
      expect(url.origin).toBe(b.url);
      const download = await fetch(url);
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer())).toEqual(pdf);
      await seeker[Symbol.asyncDispose]();
      await provider[Symbol.asyncDispose]();
    } finally {
      await a[Symbol.asyncDispose]();
      await b[Symbol.asyncDispose]();
      const client = new pg.Client({ connectionString: process.env["DATABASE_URL"] });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
      await client.end();
    }
  });
});
