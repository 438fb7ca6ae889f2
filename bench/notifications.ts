/**
 * `pnpm tsx bench/notifications.ts [--receivers N] [--concurrency N]`: N offline receivers (default
 * 10,000) each get one message through the send statement, in a schema of its own on PostgreSQL;
 * then one process sweeps and runs every push job against a local push service (VAPID checked,
 * payload decrypted). Prints the time until every push job is processed and jobs per second.
 * Not part of CI; see docs/notifications.md.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import {
  createJobQueue,
  createMemoryBus,
  createMemoryViewing,
  createNotifier,
  createPusher,
  createServices,
  generateVapidKeys,
  notificationJobTypes,
} from "@naafe/api";
import { startPushService } from "@naafe/api/testing";
import { openDatabase } from "@naafe/db";
import pg from "pg";

const { values } = parseArgs({
  options: {
    receivers: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "16" },
  },
});
const receivers = Number(values.receivers);
const concurrency = Number(values.concurrency);
const url = process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/test";
const schema = `bench_notify_${randomBytes(4).toString("hex")}`;
const say = (text: string) => console.log(text);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

say(`${receivers.toLocaleString()} offline receivers, one message each (schema ${schema})`);
const db = await openDatabase({ url, schema });
const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema},public` });
await admin.connect();
const pushService = await startPushService();
const viewing = createMemoryViewing();
const pusher = createPusher({
  vapid: { ...generateVapidKeys(), subject: "mailto:bench@example.test" },
  allowPrivateEndpoints: true,
  timeoutMs: 10_000,
  agent: pushService.agent,
});
const services = createServices({
  db,
  bus: createMemoryBus(),
  auth: { secret: "bench-secret-long-enough-for-hs256-000" },
});
const queue = await createJobQueue({ location: db.location, types: notificationJobTypes });

try {
  // Receiver i talks with sender i in conversation i; each receiver has one push device.
  await admin.query(
    `INSERT INTO "User" ("id", "name", "updatedAt")
     SELECT p || i, p || i, now() FROM generate_series(1, $1) i, unnest(ARRAY['sender-', 'receiver-']) p`,
    [receivers],
  );
  await admin.query(
    `INSERT INTO "JobRequest" ("id", "seekerId", "title", "status", "updatedAt")
     SELECT 'job-' || i, 'sender-' || i, 'Job ' || i, 'assigned', now() FROM generate_series(1, $1) i`,
    [receivers],
  );
  await admin.query(
    `INSERT INTO "Conversation" ("id", "jobRequestId", "participantSeeker", "participantProvider", "updatedAt")
     SELECT 'conv-' || i, 'job-' || i, 'sender-' || i, 'receiver-' || i, now() FROM generate_series(1, $1) i`,
    [receivers],
  );
  const { keys } = pushService.subscription();
  await admin.query(
    `INSERT INTO "PushSubscription" ("id", "userId", "endpoint", "p256dh", "auth")
     SELECT gen_random_uuid()::text, 'receiver-' || i, $2 || i, $3, $4 FROM generate_series(1, $1) i`,
    [receivers, `${pushService.origin}/push/`, keys.p256dh, keys.auth],
  );

  let started = performance.now();
  for (let i = 1; i <= receivers; i++) {
    await services.chat.messages.send(`sender-${i}`, { conversationId: `conv-${i}`, content: `Hello ${i}` });
  }
  say(`  sent ${receivers.toLocaleString()} messages one by one in ${seconds(performance.now() - started)}`);

  const notifier = createNotifier({
    prisma: db.prisma,
    queue,
    conversations: services.chat.conversations,
    viewing,
    pusher,
    mailer: null,
    links: null,
    config: { pushAfterMs: 0, digestAfterMs: 86_400_000, sweepEveryMs: 1_000, publicUrl: "https://chat.example.test" },
  });
  const done = new Promise<void>((resolve) => {
    let settled = 0;
    queue.onSettled((event) => {
      if (event.name === "notifications.push" && ++settled === receivers) resolve();
    });
  });
  started = performance.now();
  let swept = 0;
  while (swept < receivers) swept += (await notifier.sweep()).pushes;
  const sweptAt = performance.now() - started;
  const pushWorker = notifier.workers.find((worker) => worker.type.name === "notifications.push");
  if (!pushWorker) throw new Error("no push worker");
  await queue.work([{ ...pushWorker, options: { concurrency, pollingIntervalSeconds: 0.5 } }]);
  await done;
  const total = performance.now() - started;
  say(`  swept into ${swept.toLocaleString()} push jobs in ${seconds(sweptAt)}`);
  say(
    `  every push job processed ${seconds(total)} after the first sweep: ${Math.round((receivers / total) * 1000)} jobs/s` +
      ` (${pushService.received.length.toLocaleString()} pushes received, ${pushService.refused.length} refused, concurrency ${concurrency})`,
  );
} finally {
  await queue.stop(1_000);
  pusher.close();
  await pushService[Symbol.asyncDispose]();
  await services.presence.close();
  await services.moderation.close();
  await db.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
  await admin.end();
}
