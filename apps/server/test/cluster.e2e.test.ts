import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signToken } from "@naafe/api";
import { openDatabase } from "@naafe/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectClient, freePort, record, SECRET } from "./harness.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const databaseUrl = process.env["DATABASE_URL"];
const redisAvailable = Boolean(process.env["REDIS_URL"]);
/** Short, so a killed instance's users go offline within the test. */
const PRESENCE_TIMEOUT_MS = 3_000;

const waitFor = (assertion: () => void, timeout = 20_000) => vi.waitFor(assertion, { timeout, interval: 25 });
const token = (id: string) => signToken({ secret: SECRET }, { id, name: id }, "1h");

/**
 * A real server process (`apps/server/src/main.ts`), as production runs it: one Node process
 * (not npx → tsx → node), so a signal reaches the server itself and its exit is the server's.
 */
async function spawnServer(env: Record<string, string | undefined>) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      PORT: String(port),
      HOST: "127.0.0.1",
      JWT_SECRET: SECRET,
      DEMO: "false",
      LOG_LEVEL: "warn",
      PRESENCE_TIMEOUT_MS: String(PRESENCE_TIMEOUT_MS),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    const response = await fetch(`${url}/healthz`).catch(() => null);
    expect(response?.status).toBe(200);
  }, 60_000);
  return {
    url,
    child,
    output: () => output,
    /** Dies without a goodbye: no socket close frames, no presence cleanup. */
    kill: () => killAndWait(child, "SIGKILL"),
    stop: () => killAndWait(child, "SIGTERM"),
  };
}

/** Signals the server and waits for it to exit; resolves with its exit code (null when killed). */
async function killAndWait(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

/** A private Redis on its own port, so restarting it disturbs nobody else. */
async function startRedis(port: number) {
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  await waitFor(async () => {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port);
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    expect(ok).toBe(true);
  });
  return child;
}

/** Seeker posts a job, provider offers, seeker accepts: a conversation between the two. */
async function openConversation(seekerUrl: string, providerUrl: string, seeker: string, provider: string) {
  await using s = connectClient(seekerUrl, token(seeker));
  await using p = connectClient(providerUrl, token(provider));
  const job = await s.client.jobRequest.create.mutate({ title: "Paint the living room" });
  const offer = await p.client.offer.create.mutate({ jobRequestId: job.id, price: 300 });
  return (await s.client.offer.accept.mutate({ offerId: offer.id })).conversation.id;
}

describe.skipIf(!databaseUrl || !redisAvailable)("three server processes sharing PostgreSQL and Redis", () => {
  const schema = `cluster_${randomBytes(6).toString("hex")}`;
  let redisPort: number;
  let redis: ChildProcess;
  const servers: Awaited<ReturnType<typeof spawnServer>>[] = [];

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const env = { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    // One first, so the migration runs once; then the others in parallel.
    servers.push(await spawnServer(env));
    servers.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    redis?.kill("SIGKILL");
    const db = await openDatabase({ url: databaseUrl, schema });
    await db.prisma.$executeRawUnsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  }, 60_000);

  it("carries messages, typing, receipts and presence between instances, and survives a dead instance and a Redis restart", async () => {
    const [a, b, c] = servers as [(typeof servers)[0], (typeof servers)[0], (typeof servers)[0]];
    const conversationId = await openConversation(a.url, c.url, "sara", "omar");

    // Sara on A (laptop) and on B (phone); Omar on C.
    await using saraLaptop = connectClient(a.url, token("sara"));
    await using saraPhone = connectClient(b.url, token("sara"));
    await using omarOnC = connectClient(c.url, token("omar"));

    const saraSeesOmar = record(saraLaptop.client.chat.onPresence, { conversationId });
    const receipts = record(saraLaptop.client.chat.onMessagesDelivered, { conversationId });
    const phoneMessages = record(saraPhone.client.chat.onMessage, { conversationId });
    const omarMessages = record(omarOnC.client.chat.onMessage, { conversationId });
    const omarSeesTyping = record(omarOnC.client.chat.onTyping, { conversationId });
    const omarSeesSara = record(omarOnC.client.chat.onPresence, { conversationId });
    await Promise.all(
      [saraSeesOmar, receipts, phoneMessages, omarMessages, omarSeesTyping, omarSeesSara].map((s) => s.started),
    );

    // Presence: each sees the other online, whichever instance they are on.
    await waitFor(() => expect(saraSeesOmar.events.at(-1)).toMatchObject({ userId: "omar", online: true }));
    await waitFor(() => expect(omarSeesSara.events.at(-1)).toMatchObject({ userId: "sara", online: true }));

    // Typing from A reaches C.
    await saraLaptop.client.chat.typing.mutate({ conversationId, isTyping: true });
    await waitFor(() =>
      expect(omarSeesTyping.events).toContainEqual({ conversationId, userId: "sara", isTyping: true }),
    );

    // A message sent on A reaches Omar on C and Sara's own phone on B; Omar's receipt comes back to A.
    const hello = await saraLaptop.client.chat.sendMessage.mutate({ conversationId, content: "Hello from A" });
    await waitFor(() => expect(omarMessages.events.map((e) => e.id)).toEqual([hello.messageId]));
    await waitFor(() => expect(phoneMessages.events.map((e) => e.id)).toEqual([hello.messageId]));
    await waitFor(() => expect(receipts.events.flatMap((e) => e.messageIds)).toEqual([hello.messageId]));
    // Sending ends typing at once.
    await waitFor(() => expect(omarSeesTyping.events.at(-1)).toMatchObject({ isTyping: false }));
    // Of Sara's messages (the notice the conversation opened with is to nobody).
    const status = async () =>
      (await saraLaptop.client.chat.messages.query({ conversationId })).messages
        .filter((m) => m.senderId === "sara")
        .map((m) => m.status);
    expect(await status()).toEqual(["delivered"]);

    // C dies without a goodbye: Omar goes offline for Sara within the presence timeout.
    const killedAt = Date.now();
    await c.kill();
    await waitFor(
      () => expect(saraSeesOmar.events.at(-1)).toMatchObject({ userId: "omar", online: false }),
      PRESENCE_TIMEOUT_MS * 3,
    );
    expect(Date.now() - killedAt).toBeLessThan(PRESENCE_TIMEOUT_MS * 2 + 2_000);
    const lastSeen = (saraSeesOmar.events.at(-1) as { lastSeen: Date }).lastSeen;
    expect(lastSeen).toBeInstanceOf(Date);

    // Sara writes while Omar is away; his client reconnects to B from its last event and loses nothing.
    const whileAway: { messageId: string }[] = [];
    for (let i = 0; i < 3; i++) {
      whileAway.push(await saraLaptop.client.chat.sendMessage.mutate({ conversationId, content: `while away ${i}` }));
    }
    expect(await status()).toEqual(["delivered", "sent", "sent", "sent"]);
    await using omarOnB = connectClient(b.url, token("omar"));
    const resumed = record(omarOnB.client.chat.onMessage, { conversationId, lastEventId: hello.messageId });
    await waitFor(() => expect(resumed.events.map((e) => e.id)).toEqual(whileAway.map((m) => m.messageId)));
    await waitFor(() => expect(saraSeesOmar.events.at(-1)).toMatchObject({ userId: "omar", online: true }));
    await waitFor(async () => expect(await status()).toEqual(Array(4).fill("delivered")));

    // Redis restarts mid-conversation: what is sent meanwhile is stored, and catch-up brings it
    // as soon as the bus is back, without waiting for another message.
    redis.kill("SIGKILL");
    await new Promise((resolve) => redis.once("exit", resolve));
    const duringOutage = await saraLaptop.client.chat.sendMessage.mutate({ conversationId, content: "Redis is down" });
    redis = await startRedis(redisPort);
    await waitFor(() => expect(resumed.events.map((e) => e.id)).toContain(duringOutage.messageId), 30_000);
    await waitFor(() => expect(phoneMessages.events.map((e) => e.id)).toContain(duringOutage.messageId), 30_000);
    // And live delivery resumes.
    const after = await omarOnB.client.chat.sendMessage.mutate({ conversationId, content: "Back again" });
    await waitFor(() => expect(phoneMessages.events.map((e) => e.id)).toContain(after.messageId), 30_000);
    const ids = resumed.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...whileAway.map((m) => m.messageId), duringOutage.messageId, after.messageId]);
  }, 180_000);

  it("shuts down cleanly on SIGTERM while Redis is unreachable", async () => {
    const [server] = servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    if (!server) throw new Error("no running instance left");
    const refusals = () => server.output().match(/ECONNREFUSED/g)?.length ?? 0;
    const before = refusals();
    redis.kill("SIGKILL");
    await waitFor(() => expect(refusals()).toBeGreaterThan(before), 10_000);
    const stopping = Date.now();
    // 0, not main.ts's deadline exit (1 after 15 s): nothing waited for Redis.
    expect(await server.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
  }, 60_000);
});

describe("one server process without Redis (the default)", () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "naafe-single-"));
    // A folder that does not exist yet: the server creates it.
    server = await spawnServer({ DATA_DIR: join(dataDir, "not", "yet") });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("has messages, typing, receipts and presence in memory", async () => {
    expect(server.output()).not.toMatch(/redis/i);
    const conversationId = await openConversation(server.url, server.url, "sara", "omar");
    await using sara = connectClient(server.url, token("sara"));
    await using omar = connectClient(server.url, token("omar"));
    const omarSeesSara = record(omar.client.chat.onPresence, { conversationId });
    const omarMessages = record(omar.client.chat.onMessage, { conversationId });
    const typing = record(omar.client.chat.onTyping, { conversationId });
    const receipts = record(sara.client.chat.onMessagesDelivered, { conversationId });
    await Promise.all([omarSeesSara, omarMessages, typing, receipts].map((s) => s.started));
    await waitFor(() => expect(omarSeesSara.events.at(-1)).toMatchObject({ online: true }));

    await sara.client.chat.typing.mutate({ conversationId, isTyping: true });
    await waitFor(() => expect(typing.events).toContainEqual({ conversationId, userId: "sara", isTyping: true }));
    const sent = await sara.client.chat.sendMessage.mutate({ conversationId, content: "Just one process" });
    await waitFor(() => expect(omarMessages.events.map((e) => e.id)).toEqual([sent.messageId]));
    await waitFor(() => expect(receipts.events.flatMap((e) => e.messageIds)).toEqual([sent.messageId]));

    sara.ws.close();
    await waitFor(() => expect(omarSeesSara.events.at(-1)).toMatchObject({ online: false }), 10_000);
  }, 120_000);
});
