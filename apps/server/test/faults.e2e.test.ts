/**
 * Faults against the real PostgreSQL: the database becoming unreachable under a running server,
 * the server killed with SIGKILL mid-traffic, and a graceful SIGTERM under load. Each test runs on
 * a database of its own, created here and dropped afterwards.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signToken } from "@naafe/api";
import { type Database, openDatabase } from "@naafe/db";
import { TRPCClientError } from "@trpc/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectClient, freePort, record, SECRET, startTestServer } from "./harness.ts";

const DATABASE_URL = process.env["DATABASE_URL"];
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const waitFor = <T>(assertion: () => T | Promise<T>, timeout = 20_000) =>
  vi.waitFor(assertion, { timeout, interval: 50 });

type Client = ReturnType<typeof connectClient>;

// ---------------------------------------------------------------------------------------------
// A database of our own, a TCP proxy in front of PostgreSQL, and a server as a child process
// ---------------------------------------------------------------------------------------------

/**
 * One statement on a connection of its own, without the app pool's 5 s query timeout (meant for
 * a partition): a forced DROP DATABASE on a busy shared server can take longer than that.
 */
async function adminQuery(databaseUrl: string, text: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the PostgreSQL at DATABASE_URL; the server migrates it on start. */
async function createDatabase() {
  if (!DATABASE_URL) throw new Error("DATABASE_URL is not set.");
  const adminUrl = DATABASE_URL;
  const name = `faults_${randomBytes(5).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url,
    async drop() {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/**
 * A TCP proxy in front of PostgreSQL. `reset()` makes the database unreachable the way a
 * crashed server or a closed port does (connections reset, new ones refused); `blackhole()` the
 * way a network partition does (bytes vanish, nothing is answered); `restore()` heals it.
 */
async function startProxy(target: URL) {
  let mode: "up" | "reset" | "blackhole" = "up";
  const pairs = new Set<[Socket, Socket | null]>();
  const server: Server = createServer((client) => {
    if (mode === "reset") return void client.resetAndDestroy();
    const pair: [Socket, Socket | null] = [client, null];
    pairs.add(pair);
    client.on("error", () => {});
    client.on("close", () => {
      pair[1]?.destroy();
      pairs.delete(pair);
    });
    if (mode === "blackhole") return; // accepted, never answered
    const upstream = connect(Number(target.port || 5432), target.hostname);
    pair[1] = upstream;
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => client.destroy());
    // While partitioned, bytes on open connections vanish in both directions.
    client.on("data", (chunk) => {
      if (mode === "up") upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (mode === "up") client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    reset() {
      mode = "reset";
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream?.destroy();
      }
      pairs.clear();
    },
    blackhole() {
      mode = "blackhole";
    },
    restore() {
      mode = "up";
      // Half-dead connections from the partition are useless now; drop them so the pool reconnects.
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream?.destroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/**
 * `apps/server/src/main.ts` as its own process, one Node process (not npx → tsx → node), so
 * SIGKILL and SIGTERM reach the server itself and nothing survives a kill.
 */
async function spawnServer(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      JWT_SECRET: SECRET,
      DEMO: "false",
      LOG_LEVEL: "warn",
      NODE_ENV: "test",
      WEB_DIST: join(tmpdir(), "naafe-no-web-app"),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${env["PORT"]}`;
  await Promise.race([
    waitFor(async () => {
      const response = await fetch(`${url}/healthz`);
      expect(response.status).toBe(200);
    }, 60_000),
    exited.then(({ code }) => {
      throw new Error(`server exited with ${code} before it was ready:\n${output}`);
    }),
  ]);
  return { url, child, exited, output: () => output };
}

// ---------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------

/** Seeker posts, provider offers, seeker accepts; returns the conversation's id. */
async function openConversation(seeker: Client, provider: Client) {
  const job = await seeker.client.jobRequest.create.mutate({ title: "Fix the boiler" });
  const offer = await provider.client.offer.create.mutate({ jobRequestId: job.id, price: 90 });
  const { conversation } = await seeker.client.offer.accept.mutate({ offerId: offer.id });
  return conversation.id;
}

/**
 * Nothing half-written: messages, seq, lastMessage and both unread counters agree. Returns the
 * messages the participants sent, after the notice the conversation opened with.
 */
async function expectConsistent(db: Database, conversationId: string) {
  const conversation = await db.prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } });
  const messages = await db.prisma.message.findMany({ where: { conversationId }, orderBy: { seq: "asc" } });
  const unread = (userId: string) => messages.filter((m) => m.receiverId === userId && !m.read).length;
  expect(conversation.messageCount).toBe(messages.length);
  expect(messages.map((m) => m.seq)).toEqual(messages.map((_, index) => index + 1));
  expect(conversation.lastMessageContent).toBe(messages.at(-1)?.content ?? null);
  expect(conversation.unreadCountSeeker).toBe(unread(conversation.participantSeeker));
  expect(conversation.unreadCountProvider).toBe(unread(conversation.participantProvider));
  expect(messages[0]).toMatchObject({ seq: 1, senderId: "naafe", type: "system" });
  return messages.slice(1);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** sendMessage as a well-behaved client: waits out TOO_MANY_REQUESTS for the retry-after it is given. */
async function send(from: Client, conversationId: string, clientMessageId: string, content: string) {
  for (;;) {
    try {
      return await from.client.chat.sendMessage.mutate({ conversationId, content, clientMessageId });
    } catch (error) {
      if (!(error instanceof TRPCClientError) || error.data?.code !== "TOO_MANY_REQUESTS") throw error;
      await sleep(((error.data as { retryAfter?: number }).retryAfter ?? 1) * 1000);
    }
  }
}

/** Settles `promise` or reports that it was still pending after `ms`. */
async function within<T>(ms: number, promise: Promise<T>) {
  const started = Date.now();
  const timeout = Symbol("timeout");
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<typeof timeout>((resolve) => {
      timer = setTimeout(() => resolve(timeout), ms);
    }),
  ]);
  clearTimeout(timer);
  return { outcome, elapsed: Date.now() - started, timedOut: outcome === timeout } as const;
}

async function health(url: string, ms = 8_000) {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(ms) });
    return { status: response.status, body: (await response.json()) as { status: string; database: string } };
  } catch (error) {
    return { status: 0, body: null, error };
  }
}

describe.skipIf(!DATABASE_URL)("faults against the real PostgreSQL", () => {
  describe("PostgreSQL unreachable under a running server", () => {
    let database: Awaited<ReturnType<typeof createDatabase>>;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let direct: Database;

    beforeAll(async () => {
      database = await createDatabase();
      proxy = await startProxy(database.url);
    });
    afterAll(async () => {
      await direct?.close();
      await proxy?.close();
      await database?.drop();
    });

    for (const fault of ["reset", "blackhole"] as const) {
      it(`${fault}: sends fail fast and clearly, /healthz says 503, nothing half-written, recovery by itself`, async () => {
        proxy.restore();
        await using app = await startTestServer({ DATABASE_URL: proxy.url });
        direct ??= await openDatabase({ url: database.url.toString() });
        await using seeker = connectClient(app.url, app.token(`seeker-${fault}`));
        await using provider = connectClient(app.url, app.token(`provider-${fault}`));
        const conversationId = await openConversation(seeker, provider);
        const inbox = record(provider.client.chat.onMessage, { conversationId });
        await inbox.started;
        const acknowledged: string[] = [];
        for (let i = 0; i < 5; i++) {
          const sent = await seeker.client.chat.sendMessage.mutate({ conversationId, content: `before ${i}` });
          acknowledged.push(sent.messageId);
        }

        if (fault === "reset") proxy.reset();
        else proxy.blackhole();

        // A send and a health check while the database is gone, observed now and judged below.
        let failed: Awaited<ReturnType<typeof within>>;
        let healthWhileDown: Awaited<ReturnType<typeof health>>;
        try {
          [failed, healthWhileDown] = await Promise.all([
            within(
              10_000,
              seeker.client.chat.sendMessage.mutate({
                conversationId,
                content: "during",
                clientMessageId: `during-${fault}`,
              }),
            ),
            health(app.url),
          ]);
        } finally {
          proxy.restore();
        }
        const message = failed.timedOut
          ? "(still pending)"
          : String((failed.outcome as { error?: Error }).error?.message);

        // Recovers by itself: no restart, the same clients.
        await waitFor(async () => expect((await health(app.url)).status).toBe(200), 30_000);
        const retried = await waitFor(
          () =>
            seeker.client.chat.sendMessage.mutate({
              conversationId,
              content: "during",
              clientMessageId: `during-${fault}`,
            }),
          30_000,
        );
        acknowledged.push(retried.messageId);
        const after = await seeker.client.chat.sendMessage.mutate({ conversationId, content: "after" });
        acknowledged.push(after.messageId);

        const stored = await expectConsistent(direct, conversationId);
        expect(stored.map((m) => m.id)).toEqual(acknowledged);
        await waitFor(() => expect(inbox.events.map((e) => e.id)).toEqual(acknowledged));
        inbox.stop();

        // While it was down: the send was refused within seconds (a partition sends no reset:
        // the pool's query timeout ends it), /healthz said 503, and the error is one a person
        // can act on. Soft, so each is reported on its own.
        expect.soft(failed.timedOut, `sendMessage still pending after ${failed.elapsed} ms`).toBe(false);
        expect.soft(failed.outcome).toMatchObject({ ok: false });
        expect.soft(healthWhileDown.status, "/healthz while the database is down").toBe(503);
        expect.soft(healthWhileDown.body).toMatchObject({ status: "degraded", database: "down" });
        expect
          .soft(message, "a clear error, not Prisma's internals")
          .not.toMatch(/SELECT|INSERT|UPDATE|prisma|invocation/i);
        expect.soft(message).toMatch(/database|unavailable|try again/i);
      }, 90_000);
    }
  });

  /**
   * Four senders keep sending (each with its own clientMessageId) while the provider listens;
   * the server process gets `signal` mid-traffic and is started again on the same port and
   * database. Then every send whose outcome was unknown is retried with the same id.
   */
  async function trafficThrough(signal: "SIGKILL" | "SIGTERM") {
    const database = await createDatabase();
    const env = { PORT: String(await freePort()), DATABASE_URL: database.url.toString() };
    let server = await spawnServer(env);
    const direct = await openDatabase({ url: database.url.toString() });
    const token = (id: string) => signToken({ secret: SECRET }, { id, name: id }, "1h");
    try {
      await using seeker = connectClient(server.url, token("seeker"));
      await using provider = connectClient(server.url, token("provider"));
      const conversationId = await openConversation(seeker, provider);
      const inbox = record(provider.client.chat.onMessage, { conversationId });
      await inbox.started;
      // The provider has a lastEventId before the fault, so its client resumes from it.
      const first = await seeker.client.chat.sendMessage.mutate({ conversationId, content: "first" });
      await waitFor(() => expect(inbox.events.map((e) => e.id)).toEqual([first.messageId]));

      const contentOf = (clientMessageId: string) => `message ${clientMessageId}`;
      const acknowledged = new Map<string, string>();
      const attempted: { clientMessageId: string; from: Client }[] = [];
      let sending = true;
      // Two senders on each side, like a client that retries the same id until it gets an answer.
      const senders = [seeker, seeker, provider, provider].map(async (from, sender) => {
        for (let i = 0; sending; i++) {
          const clientMessageId = `s${sender}-${i}`;
          attempted.push({ clientMessageId, from });
          while (sending) {
            try {
              const sent = await send(from, conversationId, clientMessageId, contentOf(clientMessageId));
              acknowledged.set(clientMessageId, sent.messageId);
              break;
            } catch {
              await sleep(100); // server down: outcome unknown, try the same id again
            }
          }
        }
      });
      await waitFor(() => expect(acknowledged.size).toBeGreaterThanOrEqual(40), 30_000);
      server.child.kill(signal);
      const exit = await server.exited;
      if (signal === "SIGTERM") expect(exit, server.output()).toEqual({ code: 0, signal: null });
      else expect(exit.signal).toBe("SIGKILL");
      const ackedBeforeFault = new Map(acknowledged);
      await sleep(300); // a few sends fail against the dead port
      sending = false;
      await Promise.all(senders);

      // Everything acknowledged before the fault is stored, exactly once, before any retry.
      const storedAfterFault = await expectConsistent(direct, conversationId);
      const storedIds = new Set(storedAfterFault.map((m) => m.id));
      for (const [clientMessageId, messageId] of ackedBeforeFault) {
        expect(storedIds.has(messageId), `acknowledged ${clientMessageId} is stored`).toBe(true);
      }

      server = await spawnServer(env);
      // Retry every send, acknowledged or not, with the same clientMessageId: never a second copy.
      for (const { clientMessageId, from } of attempted) {
        const sent = await send(from, conversationId, clientMessageId, contentOf(clientMessageId));
        const known = acknowledged.get(clientMessageId);
        if (known) expect(sent.messageId).toBe(known);
        acknowledged.set(clientMessageId, sent.messageId);
      }

      const stored = await expectConsistent(direct, conversationId);
      expect(stored).toHaveLength(attempted.length + 1);
      expect(new Set(stored.map((m) => m.clientMessageId)).size).toBe(stored.length);
      for (const message of stored.slice(1)) {
        expect(message.content).toBe(contentOf(message.clientMessageId ?? ""));
        expect(acknowledged.get(message.clientMessageId ?? "")).toBe(message.id);
      }
      // Delivered after the reconnect: every stored message once, in order, from lastEventId on.
      await waitFor(() => expect(inbox.events.map((e) => e.id)).toEqual(stored.map((m) => m.id)), 30_000);
      inbox.stop();
      return { acknowledgedBeforeFault: ackedBeforeFault.size, attempted: attempted.length };
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
      await direct.close();
      await database.drop();
    }
  }

  it("server killed with SIGKILL mid-traffic: every acknowledged message stored and delivered, retries never duplicate", async () => {
    const result = await trafficThrough("SIGKILL");
    expect(result.acknowledgedBeforeFault).toBeGreaterThanOrEqual(40);
  }, 180_000);

  it("graceful shutdown (SIGTERM) under load: exits 0 and drops nothing acknowledged", async () => {
    const result = await trafficThrough("SIGTERM");
    expect(result.acknowledgedBeforeFault).toBeGreaterThanOrEqual(40);
  }, 180_000);
});
