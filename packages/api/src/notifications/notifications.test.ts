import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { simpleParser } from "mailparser";
import { TestClock } from "pg-boss";
import { beforeAll, describe, expect, it } from "vitest";
import { createJobQueue, type JobQueue, type JobSettled } from "../platform/jobs.ts";
import { createTestApp } from "../testing.ts";
import { createMailer, createUnsubscribeLinks, type Mailer } from "./email.ts";
import { createPusher, generateVapidKeys, PushUnavailableError, pushEndpointProblem } from "./push.ts";
import { createNotifier, digestJob, notificationJobTypes, pushJob } from "./rules.ts";
import { type PushAnswer, startMailServer, startPushService } from "./test-services.ts";
import { createMemoryViewing } from "./viewing.ts";

beforeAll(prepareTestDatabases);

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const PUBLIC_URL = "https://chat.example.test";
const UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests-0123456789";
const vapid = { ...generateVapidKeys(), subject: "mailto:ops@example.test" };

/**
 * A chat with web push to a local push service and email to a local SMTP server (or `mailer`),
 * on a clock the test moves: `at(ms)` is `ms` after the conversation's first message.
 */
async function setUp(
  backend: Backend,
  options: { answer?: (request: number) => PushAnswer; mailer?: Mailer; pushTimeoutMs?: number } = {},
) {
  const pushService = await startPushService(options.answer);
  const mail = await startMailServer();
  // From now on: a job enqueued in a Prisma transaction is stamped by PostgreSQL's own clock.
  let time = Date.now();
  const now = () => new Date(time);
  const viewing = createMemoryViewing();
  const pusher = createPusher({
    vapid,
    allowPrivateEndpoints: true,
    timeoutMs: options.pushTimeoutMs ?? 2_000,
    agent: pushService.agent,
  });
  const app = await createTestApp(backend, { now, notifications: { viewing, pusher, emailEnabled: true } });
  const clock = new TestClock(time);
  const queue = await createJobQueue({ location: app.db.location, types: notificationJobTypes, clock });
  const emailConfig = {
    from: "Naafe <chat@example.test>",
    smtpUrl: mail.url,
    outboxDir: "",
    publicUrl: PUBLIC_URL,
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
  };
  const mailer = options.mailer ?? createMailer(emailConfig);
  const links = createUnsubscribeLinks(emailConfig);
  const notifier = createNotifier({
    prisma: app.db.prisma,
    queue,
    conversations: app.services.chat.conversations,
    viewing,
    pusher,
    mailer,
    links,
    config: { pushAfterMs: 10 * SECOND, digestAfterMs: 15 * MINUTE, sweepEveryMs: 5 * SECOND, publicUrl: PUBLIC_URL },
    now,
  });
  const { conversation } = await app.openConversation("seeker", "provider");
  await app.db.prisma.user.update({
    where: { id: "provider" },
    data: { email: "provider@example.test", name: "Provider <Pat>" },
  });
  await app.as("provider").notifications.registerPush({ subscription: pushService.subscription() });
  const start = time;

  /** Moves both clocks to `ms` after the start. */
  async function at(ms: number) {
    time = start + ms;
    await clock.setTime(time);
  }
  /** Runs the queued jobs of `name` (oldest first) through the notifier, as the workers would. */
  async function runQueued(name: string) {
    const jobs = await queue.boss.findJobs<{ userId: string; conversationId?: string }>(name, { queued: true });
    const results: string[] = [];
    for (const job of jobs) {
      results.push(
        name === pushJob.name
          ? await notifier.push(job.data as { userId: string; conversationId: string })
          : await notifier.digest(job.data, { jobId: job.id }),
      );
      await queue.boss.deleteJob(name, job.id);
    }
    return results;
  }
  /** Lets the queue's test clock tick (its workers poll on it) until `settled` resolves. */
  async function ticking<T>(settled: Promise<T>): Promise<T> {
    let done = false;
    void settled.then(() => {
      done = true;
    });
    for (let n = 0; n < 200 && !done; n++) await clock.tick(2_000);
    return settled;
  }
  const send = (content: string) => app.as("seeker").chat.sendMessage({ conversationId: conversation.id, content });

  return {
    app,
    conversation,
    pushService,
    mail,
    queue,
    clock,
    notifier,
    viewing,
    at,
    send,
    runQueued,
    ticking,
    links,
    async [Symbol.asyncDispose]() {
      await queue.stop(1_000);
      pusher.close();
      mailer.close();
      await app[Symbol.asyncDispose]();
      await mail[Symbol.asyncDispose]();
      await pushService[Symbol.asyncDispose]();
    },
  };
}

describe.each(testBackends)("notifications (%s)", (backend: Backend) => {
  it("1,000 messages while away: one pending row, one push, one digest line", async () => {
    await using t = await setUp(backend);
    for (let n = 1; n <= 1_000; n++) await t.send(`message ${n} <b>&</b>`);
    expect(await t.app.db.prisma.pendingNotification.count()).toBe(1);

    await t.at(9 * SECOND);
    expect(await t.notifier.sweep()).toEqual({ pushes: 0, digests: 0 });
    await t.at(11 * SECOND);
    expect(await t.notifier.sweep()).toEqual({ pushes: 1, digests: 0 });
    expect(await t.notifier.sweep()).toEqual({ pushes: 0, digests: 0 });
    expect(await t.runQueued(pushJob.name)).toEqual(["sent"]);

    expect(t.pushService.refused).toEqual([]);
    expect(t.pushService.received).toHaveLength(1);
    const [push] = t.pushService.received;
    expect(push?.payload).toMatchObject({
      conversationId: t.conversation.id,
      body: "message 1000 <b>&</b>",
      unreadCount: 1_000,
      url: `${PUBLIC_URL}/#/c/${t.conversation.id}`,
    });
    expect(push?.vapid.aud).toBe(t.pushService.origin);
    expect(push?.vapid.sub).toBe(vapid.subject);
    expect(push?.vapid.publicKey).toBe(vapid.publicKey);
    expect(push?.headers["topic"]).toMatch(/^[A-Za-z0-9_-]{1,32}$/);

    await t.at(15 * MINUTE + SECOND);
    expect(await t.notifier.sweep()).toEqual({ pushes: 0, digests: 1 });
    expect(await t.runQueued(digestJob.name)).toEqual(["sent"]);
    expect(t.mail.received).toHaveLength(1);
    const [email] = t.mail.received;
    expect(t.mail.envelopes).toEqual([["provider@example.test"]]);
    expect(email?.subject).toBe("1000 unread messages from seeker");
    expect(email?.text).toContain("message 1000 <b>&</b>");
    expect(email?.text?.match(/^seeker \(1000 unread messages\)$/gm)).toHaveLength(1);
    // Escaped in HTML: the message's markup is shown, never interpreted.
    expect(email?.html).toContain("message 1000 &lt;b&gt;&amp;&lt;/b&gt;");
    expect(email?.html).not.toContain("<b>&</b>");
    const header = (key: string) => email?.headerLines.find((line) => line.key === key)?.line.replace(/^[^:]+:\s*/, "");
    expect(header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    const unsubscribe = header("list-unsubscribe") ?? "";
    expect(unsubscribe).toMatch(/^<https:\/\/chat\.example\.test\/notifications\/unsubscribe\?token=[^>]+>$/);
    const token = new URL(unsubscribe.slice(1, -1)).searchParams.get("token") ?? "";
    expect(t.links.verify(token, new Date())).toEqual({ userId: "provider" });
    expect(await t.app.db.prisma.pendingNotification.count()).toBe(0);
  });

  it("sends nothing about a conversation its receiver is viewing, until the page is hidden", async () => {
    await using t = await setUp(backend);
    const controller = new AbortController();
    const connection = t.app.connection("provider");
    const messages = await connection({ signal: controller.signal }).chat.onMessage({
      conversationId: t.conversation.id,
    });
    const reading = (async () => {
      for await (const _ of messages) {
      }
    })();
    await t.send("are you there?");
    await t.at(11 * SECOND);
    await t.notifier.sweep();
    expect(await t.runQueued(pushJob.name)).toEqual(["viewing"]);

    await connection().notifications.setVisible({ visible: false });
    await t.send("hello?");
    await t.at(22 * SECOND);
    await t.notifier.sweep();
    expect(await t.runQueued(pushJob.name)).toEqual(["sent"]);
    expect(t.pushService.received).toHaveLength(1);

    await connection().notifications.setVisible({ visible: true });
    controller.abort();
    await reading;
    expect(await t.viewing.isViewing("provider", t.conversation.id)).toBe(false);
  });

  it("sends nothing once the messages are read, for a muted conversation, or with push and email off", async () => {
    await using t = await setUp(backend);
    await t.send("first");
    await t.app.as("provider").chat.markRead({ conversationId: t.conversation.id });
    await t.at(15 * MINUTE + SECOND);
    expect(await t.notifier.sweep()).toEqual({ pushes: 1, digests: 1 });
    expect(await t.runQueued(pushJob.name)).toEqual(["read"]);
    expect(await t.runQueued(digestJob.name)).toEqual(["nothing-unread"]);

    await t.app.as("provider").chat.mute({ conversationId: t.conversation.id });
    await t.send("second");
    await t.at(16 * MINUTE);
    await t.notifier.sweep();
    expect(await t.runQueued(pushJob.name)).toEqual(["muted"]);

    await t.app.as("provider").chat.unmute({ conversationId: t.conversation.id });
    await t.app.as("provider").notifications.updatePreferences({ push: false, email: false });
    await t.send("third");
    await t.at(40 * MINUTE);
    expect(await t.notifier.sweep()).toEqual({ pushes: 1, digests: 1 });
    expect(await t.runQueued(pushJob.name)).toEqual(["off"]);
    expect(await t.runQueued(digestJob.name)).toEqual(["off"]);
    expect(t.pushService.received).toHaveLength(0);
    expect(t.mail.received).toHaveLength(0);
  });

  it("sends at most one digest per user per window", async () => {
    await using t = await setUp(backend);
    await t.send("one");
    await t.at(15 * MINUTE + SECOND);
    expect((await t.notifier.sweep()).digests).toBe(1);
    await t.send("two");
    await t.at(25 * MINUTE);
    expect((await t.notifier.sweep()).digests).toBe(0);
    await t.at(30 * MINUTE + 2 * SECOND);
    expect((await t.notifier.sweep()).digests).toBe(1);
  });

  it("removes a subscription the push service says is gone (410), and retries on 500 and timeouts", async () => {
    const answers: PushAnswer[] = [500, "hang", 410];
    await using t = await setUp(backend, { answer: (n) => answers[n] ?? 201, pushTimeoutMs: 300 });
    await t.send("ping");
    await t.at(11 * SECOND);
    await t.notifier.sweep();
    const payload = { userId: "provider", conversationId: t.conversation.id };
    await expect(t.notifier.push(payload)).rejects.toThrow(PushUnavailableError);
    await expect(t.notifier.push(payload)).rejects.toThrow(/could not be reached/);
    expect(await t.app.db.prisma.pushSubscription.count()).toBe(1);
    expect(await t.notifier.push(payload)).toBe("no-device");
    expect(await t.app.db.prisma.pushSubscription.count()).toBe(0);
  });

  it("hands each due row to one job when two processes sweep at once", async () => {
    await using t = await setUp(backend);
    const others = ["a", "b", "c", "d", "e"];
    for (const other of others) {
      const { conversation } = await t.app.openConversation(`seeker-${other}`, "provider");
      await t.app.as(`seeker-${other}`).chat.sendMessage({ conversationId: conversation.id, content: "hi" });
    }
    await t.send("and me");
    const secondQueue = await createJobQueue({ location: t.app.db.location, types: notificationJobTypes });
    const secondPusher = createPusher({ vapid, allowPrivateEndpoints: true, timeoutMs: 1_000 });
    const secondMailer = createMailer({
      from: "chat@example.test",
      outboxDir: join(tmpdir(), "notifications-unused-outbox"),
      publicUrl: PUBLIC_URL,
      unsubscribeSecret: UNSUBSCRIBE_SECRET,
    });
    try {
      const second = createNotifier({
        prisma: t.app.db.prisma,
        queue: secondQueue,
        conversations: t.app.services.chat.conversations,
        viewing: t.viewing,
        pusher: secondPusher,
        // Never sends here (no worker runs): it lets this process enqueue digests too.
        mailer: secondMailer,
        links: null,
        config: {
          pushAfterMs: 10 * SECOND,
          digestAfterMs: 15 * MINUTE,
          sweepEveryMs: 5 * SECOND,
          publicUrl: PUBLIC_URL,
        },
        now: () => new Date(t.clock.now()),
      });
      await t.at(11 * SECOND);
      const [mine, theirs] = await Promise.all([t.notifier.sweep(), second.sweep()]);
      expect(mine.pushes + theirs.pushes).toBe(others.length + 1);
      const queued = await t.queue.boss.findJobs<{ userId: string; conversationId: string }>(pushJob.name, {
        queued: true,
      });
      expect(queued).toHaveLength(others.length + 1);
      expect(new Set(queued.map((job) => job.data.conversationId)).size).toBe(others.length + 1);
      expect(await t.notifier.sweep()).toEqual({ pushes: 0, digests: 0 });

      // Six due rows of one user, taken by two sweeps at once: one digest.
      await t.at(15 * MINUTE + SECOND);
      const [myDigests, theirDigests] = await Promise.all([t.notifier.sweep(), second.sweep()]);
      expect(myDigests.digests + theirDigests.digests).toBe(1);
      expect(await t.queue.boss.findJobs(digestJob.name, { queued: true })).toHaveLength(1);
      expect(await t.app.db.prisma.pendingNotification.count()).toBe(0);
    } finally {
      secondMailer.close();
      secondPusher.close();
      await secondQueue.stop(1_000);
    }
  });

  it("runs a push job again when the process that claimed it died mid-run: one push", async () => {
    await using t = await setUp(backend);
    await t.send("still there?");
    await t.at(11 * SECOND);
    expect(await t.notifier.sweep()).toEqual({ pushes: 1, digests: 0 });
    // Claimed, and never finished: its process is gone.
    expect(await t.queue.boss.fetch(pushJob.name)).toHaveLength(1);

    const runs = settledRuns(t.queue, 1);
    await t.queue.work(t.notifier.workers.filter((worker) => worker.type === pushJob));
    // Past its timeout and the first retry delay, another worker runs it.
    let minutes = 0;
    while (t.pushService.received.length === 0 && minutes++ < 10) await t.clock.tick(60_000);
    expect((await runs.all).map((event) => event.outcome)).toEqual(["completed"]);
    expect(t.pushService.received).toHaveLength(1);
    expect(await t.notifier.sweep()).toEqual({ pushes: 0, digests: 0 });
  });

  it("retries a digest with backoff while SMTP is down, then sends it once", async () => {
    await using t = await setUp(backend);
    await t.mail.stop();
    const runs = settledRuns(t.queue, 2);
    await t.queue.work(t.notifier.workers.filter((worker) => worker.type === digestJob));
    await t.send("<script>alert(1)</script>");
    await t.at(15 * MINUTE + SECOND);
    await t.notifier.sweep();
    const firstRun = await t.ticking(runs.first);
    expect(firstRun).toMatchObject({ outcome: "retry" });
    expect(t.mail.received).toHaveLength(0);

    await t.mail.listen();
    // The retry waits (backoff) until the clock passes its delay.
    await t.at(15 * MINUTE + 2 * MINUTE);
    expect((await t.ticking(runs.all)).map((event) => event.outcome)).toEqual(["retry", "completed"]);
    expect(t.mail.received).toHaveLength(1);
    expect(t.mail.received[0]?.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("web push endpoints", () => {
  it("refuses non-HTTPS and private or loopback addresses unless allowed", () => {
    const strict = { allowPrivate: false };
    expect(pushEndpointProblem("http://push.example.com/x", strict)).toMatch(/https/);
    expect(pushEndpointProblem("https://10.0.0.7/x", strict)).toMatch(/non-public/);
    expect(pushEndpointProblem("https://169.254.169.254/latest", strict)).toMatch(/non-public/);
    expect(pushEndpointProblem("https://[::1]/x", strict)).toMatch(/non-public/);
    expect(pushEndpointProblem("https://localhost/x", strict)).toMatch(/this machine/);
    expect(pushEndpointProblem("https://fcm.googleapis.com/fcm/send/abc", strict)).toBeNull();
    expect(pushEndpointProblem("https://127.0.0.1:8443/x", { allowPrivate: true })).toBeNull();
    expect(pushEndpointProblem("http://127.0.0.1:8443/x", { allowPrivate: true })).toMatch(/https/);
  });

  it("are refused at registration with a BAD_REQUEST and nothing stored", async () => {
    const pusher = createPusher({ vapid, allowPrivateEndpoints: false, timeoutMs: 1_000 });
    await using app = await createTestApp("pglite", { notifications: { pusher } });
    const keys = {
      p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
      auth: "tBHItJI5svbpez7KI4CCXg",
    };
    for (const endpoint of ["http://push.example.com/a", "https://192.168.1.1/a", "https://localhost/a"]) {
      await expect(app.as("u1").notifications.registerPush({ subscription: { endpoint, keys } })).rejects.toMatchObject(
        {
          code: "BAD_REQUEST",
        },
      );
    }
    expect(await app.db.prisma.pushSubscription.count()).toBe(0);
    pusher.close();
  });
});

describe("unsubscribe links", () => {
  const links = createUnsubscribeLinks({
    publicUrl: PUBLIC_URL,
    unsubscribeSecret: UNSUBSCRIBE_SECRET,
    unsubscribeValidMs: MINUTE,
  });
  const tokenOf = (url: string) => new URL(url).searchParams.get("token") ?? "";

  it("name their user until they expire", () => {
    const issued = new Date("2026-12-04T10:00:00Z");
    const token = tokenOf(links.url("user-1", issued));
    expect(links.verify(token, new Date(issued.getTime() + 30 * SECOND))).toEqual({ userId: "user-1" });
    expect(links.verify(token, new Date(issued.getTime() + 2 * MINUTE))).toEqual({ problem: "expired" });
  });

  it("refuse a forged user, expiry or signature", () => {
    const issued = new Date();
    const [user, expires, signature] = tokenOf(links.url("user-1", issued)).split(".");
    const other = Buffer.from("user-2").toString("base64url");
    expect(links.verify(`${other}.${expires}.${signature}`, issued)).toEqual({ problem: "invalid" });
    expect(links.verify(`${user}.${Number(expires) + 3600}.${signature}`, issued)).toEqual({ problem: "invalid" });
    expect(links.verify(`${user}.${expires}.AAAA`, issued)).toEqual({ problem: "invalid" });
    expect(links.verify("nonsense", issued)).toEqual({ problem: "invalid" });
    const stranger = createUnsubscribeLinks({
      publicUrl: PUBLIC_URL,
      unsubscribeSecret: "another-secret-another-secret-0000",
    });
    expect(links.verify(tokenOf(stranger.url("user-1", issued)), issued)).toEqual({ problem: "invalid" });
  });
});

describe("emails without SMTP", () => {
  it("are written to the outbox as .eml files", async () => {
    const outboxDir = mkdtempSync(join(tmpdir(), "notifications-outbox-"));
    try {
      const mailer = createMailer({
        from: "chat@example.test",
        outboxDir,
        publicUrl: PUBLIC_URL,
        unsubscribeSecret: UNSUBSCRIBE_SECRET,
      });
      await mailer.send({
        to: "a@example.test",
        subject: "Hi",
        text: "hello",
        html: "<p>hello</p>",
        messageId: "<m1@example.test>",
      });
      const files = readdirSync(outboxDir);
      expect(files).toHaveLength(1);
      const parsed = await simpleParser(readFileSync(join(outboxDir, files[0] ?? "")));
      expect(parsed.subject).toBe("Hi");
      expect(parsed.text?.trim()).toBe("hello");
    } finally {
      rmSync(outboxDir, { recursive: true, force: true });
    }
  });
});

/** The next `count` runs this queue settles: `first` resolves with the first, `all` with all. */
function settledRuns(queue: JobQueue, count: number) {
  const runs: JobSettled[] = [];
  let first: (event: JobSettled) => void = () => {};
  let all: (events: JobSettled[]) => void = () => {};
  const stop = queue.onSettled((event) => {
    runs.push(event);
    if (runs.length === 1) first(event);
    if (runs.length === count) {
      stop();
      all(runs);
    }
  });
  return {
    first: new Promise<JobSettled>((resolve) => {
      first = resolve;
    }),
    all: new Promise<JobSettled[]>((resolve) => {
      all = resolve;
    }),
  };
}
