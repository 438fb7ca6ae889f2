/**
 * Soak: minutes of mixed traffic against the real server (a child process) with random client
 * disconnects and one server restart in the middle, then an audit of the database and of what
 * every client received. Not part of the test run:
 *
 *   npx tsx bench/soak.ts --minutes 3 [--pairs 4] [--attack] [--phase-seconds 30]
 *
 * With --attack, hostile clients (bench/soak-attack.ts, a process of their own) run beside the
 * honest ones in every other phase, and the honest users' latencies are reported per phase.
 *
 * With DATABASE_URL it creates a database of its own there (dropped afterwards) and kills the
 * server with SIGKILL; without, it runs on a PGlite folder and restarts with SIGTERM (PGlite's
 * files are not crash-safe against SIGKILL). Exits 1 when the audit finds anything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { signToken } from "@naafe/api";
import { TRPCClientError } from "@trpc/client";
import pg from "pg";
import { connectClient, freePort } from "../apps/server/test/harness.ts";
import { procCpuMs } from "./children.ts";
import { percentiles } from "./stats.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    pairs: { type: "string", default: "4" },
    attack: { type: "boolean", default: false },
    "phase-seconds": { type: "string", default: "30" },
  },
});
const minutes = Number(args.minutes);
const pairs = Number(args.pairs);
const phaseMs = Number(args["phase-seconds"]) * 1_000;
const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const SECRET = "soak-secret-that-is-long-enough-for-hs256";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...parts: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ------------------------------------------------------------------------------------------
// Database and server
// ------------------------------------------------------------------------------------------

const baseUrl = process.env["DATABASE_URL"];
const dbName = `soak_${randomBytes(4).toString("hex")}`;
let databaseUrl: string | undefined;
if (baseUrl) {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
}
const dataDir = await mkdtemp(join(tmpdir(), "naafe-soak-"));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;

/** One Node process running the server, so a signal reaches the server itself. */
async function startServer() {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      JWT_SECRET: SECRET,
      DEMO: "false",
      LOG_LEVEL: "warn",
      DATA_DIR: dataDir,
      WEB_DIST: join(dataDir, "no-web-app"),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: "" }),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (attempt > 600) throw new Error("server did not start");
    await sleep(100);
  }
  return { child, exited };
}

// ------------------------------------------------------------------------------------------
// Users: one client each, always subscribed to their conversation
// ------------------------------------------------------------------------------------------

interface User {
  id: string;
  peer: string;
  conversationId: string;
  connection: ReturnType<typeof connectClient>;
  subscription: { started: Promise<void>; stop(): void };
  /** Every message id received, across reconnections, in arrival order. */
  received: string[];
  /** Since when the current subscription is live: messages sent before came by catch-up. */
  liveSince: number;
  /** How the server closed this user's connections, across reconnections. */
  closeCodes: number[];
  reconnects: number;
}

const token = (id: string) => signToken({ secret: SECRET }, { id, name: id }, "12h");

// ------------------------------------------------------------------------------------------
// Honest users' latencies, by phase (quiet or under attack); the restart's spell is left out
// ------------------------------------------------------------------------------------------

type Phase = "quiet" | "attack" | "restart";
let phase: Phase = "quiet";
const latencies = {
  ack: { quiet: [] as number[], attack: [] as number[] },
  delivery: { quiet: [] as number[], attack: [] as number[] },
};
/** Every message's content starts with its id and the time it was sent. */
const sentAtOf = (content: string) => Number(content.split(" ")[1]);
/** The server's CPU time and the wall time spent in each phase (sampled by the main loop). */
const busy = { quiet: { cpuMs: 0, wallMs: 0 }, attack: { cpuMs: 0, wallMs: 0 } };
/** The phase each message was first sent in, by clientMessageId ("restart" once it was retried). */
const phaseOf = new Map<string, Phase>();

function subscribe(user: User) {
  const lastEventId = user.received.at(-1) ?? null;
  let started = () => {};
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  user.liveSince = Number.POSITIVE_INFINITY;
  const subscription = user.connection.client.chat.onMessage.subscribe(
    { conversationId: user.conversationId, lastEventId },
    {
      onStarted: () => {
        user.liveSince = Date.now();
        started();
      },
      onData: ({ id, data }) => {
        user.received.push(id);
        const sentAt = sentAtOf(data.content);
        const sentIn = phaseOf.get(data.content.split(" ")[0] ?? "");
        if (sentAt >= user.liveSince && sentIn && sentIn !== "restart" && phase === sentIn)
          latencies.delivery[sentIn].push(Date.now() - sentAt);
      },
    },
  );
  user.subscription = { started: startedPromise, stop: () => subscription.unsubscribe() };
}

/** A client that drops off and comes back as a new connection, resuming from its last message. */
async function reconnect(user: User) {
  user.closeCodes.push(...user.connection.closeCodes);
  user.subscription.stop();
  user.connection.ws.close();
  await sleep(50 + Math.random() * 500);
  user.connection = connectClient(url, token(user.id));
  subscribe(user);
  user.reconnects++;
}

async function send(user: User, clientMessageId: string, filler: string) {
  for (let attempt = 0; ; attempt++) {
    const sentAt = Date.now();
    const sentIn = attempt === 0 ? phase : "restart";
    phaseOf.set(clientMessageId, sentIn);
    try {
      const sent = await user.connection.client.chat.sendMessage.mutate({
        conversationId: user.conversationId,
        content: `${clientMessageId} ${sentAt} ${filler}`,
        clientMessageId,
      });
      if (sentIn !== "restart" && phase === sentIn) latencies.ack[sentIn].push(Date.now() - sentAt);
      return sent;
    } catch (error) {
      const data = error instanceof TRPCClientError ? (error.data as { code?: string; retryAfter?: number }) : null;
      if (data?.code === "TOO_MANY_REQUESTS") await sleep((data.retryAfter ?? 1) * 1000);
      else await sleep(200); // down or restarting: same id again, the server keeps it once
    }
  }
}

// ------------------------------------------------------------------------------------------
// Run
// ------------------------------------------------------------------------------------------

let server = await startServer();
log(`server on ${url} (${databaseUrl ? `PostgreSQL ${dbName}` : "PGlite"}), ${pairs} conversations, ${minutes} min`);
const attacker = args.attack ? await startAttacker() : null;

/** The hostile clients' process; it waits for "attack" and reports when told to "stop". */
async function startAttacker() {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/soak-attack.ts"], {
    cwd: repoRoot,
    env: { ...process.env, SOAK_URL: url, SOAK_SECRET: SECRET },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const report = new Promise<{ counts: Record<string, number>; breaches: string[] }>((resolve, reject) => {
    child.on("message", (message: { type: string; counts: Record<string, number>; breaches: string[] }) => {
      if (message.type === "report") resolve(message);
    });
    child.once("exit", (code) => reject(new Error(`the attacker exited with ${code} before reporting`)));
  });
  await new Promise<void>((resolve) => child.once("message", () => resolve()));
  return { tell: (type: "attack" | "pause" | "stop") => child.send({ type }), report };
}

const users: User[] = [];
for (let pair = 0; pair < pairs; pair++) {
  const seekerId = `soak-seeker-${pair}`;
  const providerId = `soak-provider-${pair}`;
  const seeker = connectClient(url, token(seekerId));
  const provider = connectClient(url, token(providerId));
  const job = await seeker.client.jobRequest.create.mutate({ title: `Soak job ${pair}` });
  const offer = await provider.client.offer.create.mutate({ jobRequestId: job.id });
  const { conversation } = await seeker.client.offer.accept.mutate({ offerId: offer.id });
  for (const [id, peer, connection] of [
    [seekerId, providerId, seeker],
    [providerId, seekerId, provider],
  ] as const) {
    const user: User = {
      id,
      peer,
      conversationId: conversation.id,
      connection,
      subscription: { started: Promise.resolve(), stop() {} },
      received: [],
      liveSince: 0,
      closeCodes: [],
      reconnects: 0,
    };
    subscribe(user);
    await user.subscription.started;
    users.push(user);
  }
}

const acknowledged = new Map<string, { messageId: string; conversationId: string }>();
let sends = 0;
let markReads = 0;
let running = true;
const deadline = Date.now() + minutes * 60_000;
const restartAt = Date.now() + (minutes * 60_000) / 2;

const senders = users.map(async (user) => {
  for (let n = 0; running; n++) {
    const clientMessageId = `${user.id}-${n}`;
    const sent = await send(user, clientMessageId, "·".repeat(Math.floor(Math.random() * 40)));
    acknowledged.set(clientMessageId, { messageId: sent.messageId, conversationId: user.conversationId });
    sends++;
    if (Math.random() < 0.1) {
      await user.connection.client.chat.markRead.mutate({ conversationId: user.conversationId }).then(
        () => markReads++,
        () => {},
      );
    }
    await sleep(200 + Math.random() * 600);
  }
});

let restarted = false;
const startedAt = Date.now();
let sampled = { at: Date.now(), cpuMs: procCpuMs(server.child.pid ?? 0) };
while (Date.now() < deadline) {
  await sleep(1_000 + Math.random() * 2_000);
  const sample = { at: Date.now(), cpuMs: procCpuMs(server.child.pid ?? 0) };
  busy[phase].cpuMs += sample.cpuMs - sampled.cpuMs;
  busy[phase].wallMs += sample.at - sampled.at;
  sampled = sample;
  if (attacker) {
    const next: Phase = Math.floor((Date.now() - startedAt) / phaseMs) % 2 === 1 ? "attack" : "quiet";
    if (next !== phase) {
      attacker.tell(next === "attack" ? "attack" : "pause");
      phase = next;
      log(next === "attack" ? "attack on" : "attack paused");
    }
  }
  const user = users[Math.floor(Math.random() * users.length)];
  if (user) await reconnect(user);
  if (!restarted && Date.now() >= restartAt) {
    restarted = true;
    const signal = databaseUrl ? "SIGKILL" : "SIGTERM";
    log(`restarting the server with ${signal} after ${sends} acknowledged sends`);
    const before: Phase = phase;
    phase = "restart";
    server.child.kill(signal);
    await server.exited;
    await sleep(1_000);
    server = await startServer();
    log("server back");
    await sleep(3_000); // clients reconnecting and catching up: not the phase's latency
    phase = before;
    sampled = { at: Date.now(), cpuMs: procCpuMs(server.child.pid ?? 0) };
  }
  log(`${sends} sends acknowledged, ${users.reduce((sum, u) => sum + u.reconnects, 0)} reconnects`);
}
running = false;
await Promise.all(senders);
attacker?.tell("stop");
const attack = attacker ? await attacker.report : null;
log(`traffic stopped: ${acknowledged.size} messages acknowledged, ${markReads} markRead calls; auditing`);

// ------------------------------------------------------------------------------------------
// Audit
// ------------------------------------------------------------------------------------------

const problems: string[] = attack ? attack.breaches.map((breach) => `attack: ${breach}`) : [];
const byConversation = new Map<
  string,
  { id: string; clientMessageId: string | null; read: boolean; senderId: string; receiverId: string }[]
>();
let counters: {
  id: string;
  participantSeeker: string;
  participantProvider: string;
  unreadCountSeeker: number;
  unreadCountProvider: number;
  messageCount: number;
}[] = [];
for (const user of users) {
  if (byConversation.has(user.conversationId)) continue;
  const { messages } = await readConversation(user);
  byConversation.set(user.conversationId, messages);
}
counters = await readCounters();

/** All of a conversation's messages, oldest first, through the API (works on PGlite too). */
async function readConversation(user: User) {
  const all: {
    id: string;
    clientMessageId: string | null;
    read: boolean;
    senderId: string;
    receiverId: string;
    seq: number;
  }[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await user.connection.client.chat.messages.query({
      conversationId: user.conversationId,
      limit: 100,
      ...(before ? { before } : {}),
    });
    all.unshift(...page.messages);
    if (!page.nextCursor) break;
    before = page.nextCursor;
  }
  return { messages: all };
}

async function readCounters() {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      `SELECT "id", "participantSeeker", "participantProvider", "unreadCountSeeker", "unreadCountProvider", "messageCount"
       FROM "Conversation" WHERE "id" = ANY($1)`,
      [[...byConversation.keys()]],
    );
    await client.end();
    return rows;
  }
  // PGlite: the counters as each participant sees them.
  const rows = [];
  for (let i = 0; i < users.length; i += 2) {
    const [seeker, provider] = [users[i] as User, users[i + 1] as User];
    const seekerView = await seeker.connection.client.chat.conversation.query({
      conversationId: seeker.conversationId,
    });
    const providerView = await provider.connection.client.chat.conversation.query({
      conversationId: provider.conversationId,
    });
    rows.push({
      id: seeker.conversationId,
      participantSeeker: seeker.id,
      participantProvider: provider.id,
      unreadCountSeeker: seekerView.unreadCount,
      unreadCountProvider: providerView.unreadCount,
      messageCount: byConversation.get(seeker.conversationId)?.length ?? -1,
    });
  }
  return rows;
}

// 1. Every acknowledged message is stored exactly once.
const stored = new Map<string, string>();
for (const messages of byConversation.values()) {
  for (const message of messages) {
    if (message.clientMessageId === null) continue;
    if (stored.has(message.clientMessageId)) problems.push(`clientMessageId ${message.clientMessageId} stored twice`);
    stored.set(message.clientMessageId, message.id);
  }
}
for (const [clientMessageId, { messageId }] of acknowledged) {
  if (stored.get(clientMessageId) !== messageId)
    problems.push(`acknowledged ${clientMessageId} (${messageId}) not stored as such`);
}
/** What the users sent: not Naafe's notices, such as the "Offer accepted" each conversation opens with. */
const sentByUsers = <T extends { senderId: string }>(messages: T[]) => messages.filter((m) => m.senderId !== "naafe");
const storedTotal = [...byConversation.values()].reduce((sum, messages) => sum + sentByUsers(messages).length, 0);
if (storedTotal !== acknowledged.size) problems.push(`${storedTotal} stored, ${acknowledged.size} acknowledged`);

// 2. Every unread counter equals the real number of unread messages.
for (const row of counters) {
  const messages = byConversation.get(row.id) ?? [];
  const unread = (userId: string) => messages.filter((m) => m.receiverId === userId && !m.read).length;
  if (row.messageCount !== messages.length)
    problems.push(`${row.id}: messageCount ${row.messageCount} ≠ ${messages.length}`);
  if (row.unreadCountSeeker !== unread(row.participantSeeker))
    problems.push(`${row.id}: seeker unread ${row.unreadCountSeeker} ≠ ${unread(row.participantSeeker)}`);
  if (row.unreadCountProvider !== unread(row.participantProvider))
    problems.push(`${row.id}: provider unread ${row.unreadCountProvider} ≠ ${unread(row.participantProvider)}`);
}

// 3. No client missed or duplicated a message (waiting a little for the last ones to arrive).
const settleUntil = Date.now() + 30_000;
for (const user of users) {
  // The opening notice was stored before anyone subscribed (live from then on, no catch-up).
  const expected = sentByUsers(byConversation.get(user.conversationId) ?? []).map((m) => m.id);
  while (Date.now() < settleUntil && user.received.length < expected.length) await sleep(200);
  user.closeCodes.push(...user.connection.closeCodes);
  const refused = user.closeCodes.filter((code) => code === 4401 || code === 4429);
  if (refused.length > 0) problems.push(`${user.id} was refused (${refused.join(", ")})`);
  const duplicates = user.received.length - new Set(user.received).size;
  if (duplicates > 0) problems.push(`${user.id} received ${duplicates} duplicates`);
  const missing = expected.filter((id) => !user.received.includes(id));
  if (missing.length > 0) problems.push(`${user.id} missed ${missing.length} messages`);
  if (duplicates === 0 && missing.length === 0 && user.received.join() !== expected.join())
    problems.push(`${user.id} received its messages out of order`);
}

/** The honest users' latencies, quiet against under attack (p99 ratio: the target is at most 2). */
function latencySummary() {
  const summarise = (samples: number[]) => {
    const { count, p50, p99, max } = percentiles(samples);
    return { count, p50: Math.round(p50), p99: Math.round(p99), max: Math.round(max) };
  };
  const of = (kind: "ack" | "delivery") => {
    const quiet = summarise(latencies[kind].quiet);
    const attacked = summarise(latencies[kind].attack);
    return { quiet, attack: attacked, p99Ratio: Number((attacked.p99 / Math.max(1, quiet.p99)).toFixed(2)) };
  };
  const cpu = (p: "quiet" | "attack") => `${Math.round((100 * busy[p].cpuMs) / Math.max(1, busy[p].wallMs))}%`;
  return { ack: of("ack"), delivery: of("delivery"), serverCpu: { quiet: cpu("quiet"), attack: cpu("attack") } };
}

const summary = {
  minutes,
  store: databaseUrl ? "postgres" : "pglite",
  restart: databaseUrl ? "SIGKILL" : "SIGTERM",
  conversations: pairs,
  users: users.length,
  acknowledged: acknowledged.size,
  stored: storedTotal,
  markReads,
  clientReconnects: users.reduce((sum, u) => sum + u.reconnects, 0),
  ...(attack ? { latencyMs: latencySummary(), attack: attack.counts } : {}),
  problems,
};
console.log(JSON.stringify(summary, null, 2));

for (const user of users) {
  user.subscription.stop();
  user.connection.ws.close();
}
server.child.kill("SIGTERM");
await server.exited;
await rm(dataDir, { recursive: true, force: true });
if (baseUrl) {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
}
log(problems.length === 0 ? "AUDIT PASSED" : `AUDIT FAILED: ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
