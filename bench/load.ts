/**
 * The load process: real clients, one WebSocket per simulated user, driven by the runner over
 * IPC. Sender and receiver of every message live here, so send→receive latency is read on one
 * clock (performance.now()).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import jwt from "jsonwebtoken";
import { type ChatClient, createClient, type ReceivedEvent } from "./clients.ts";
import {
  type CatchUpResult,
  type ConnectResult,
  errorText,
  type LoadMessage,
  type LoadRequest,
  type SteadyResult,
  type Target,
} from "./protocol.ts";
import { conversationId, userId } from "./seed.ts";
import { percentiles, Samples } from "./stats.ts";

interface User {
  id: string;
  conversationId: string;
  client: ChatClient;
}

interface Pending {
  sentAt: number;
  measured: boolean;
}

const send = (message: LoadMessage) => process.send?.(message);
const progress = (text: string) => send({ type: "progress", text });

let users: User[] = [];
const pending = new Map<string, Pending>();
let run: { latency: Samples; delivered: number; drops: number; dropSample?: string } | null = null;
let drops = 0;
let dropSample: string | undefined;

function tokenFor(target: Target, id: string) {
  return jwt.sign({ name: id }, target.secret, { algorithm: "HS256", subject: id, expiresIn: "2h" });
}

/** Every message reaches the receiver's and the sender's subscription; only the receiver's counts. */
function onEvent(receiver: string, event: ReceivedEvent) {
  if (event.senderId === receiver || event.clientMessageId === null) return;
  const entry = pending.get(event.clientMessageId);
  if (!entry) return;
  pending.delete(event.clientMessageId);
  if (entry.measured && run) {
    run.latency.push(performance.now() - entry.sentAt);
    run.delivered++;
  }
}

async function connect(target: Target, prefix: string, count: number, concurrency: number): Promise<ConnectResult> {
  const started = performance.now();
  const opened: User[] = [];
  let failed = 0;
  let sample: string | undefined;
  let next = 0;
  let lastReport = started;

  async function open(index: number) {
    const id = userId(prefix, index);
    const pair = Math.floor(index / 2);
    // Partners land on different instances when there are several, so fan-out must cross them.
    const url = target.urls[(index + pair) % target.urls.length] ?? "";
    const conversation = conversationId(prefix, pair);
    const client = createClient(target.kind, {
      url,
      token: tokenFor(target, id),
      onDrop: (reason) => {
        drops++;
        dropSample ??= `${id}: ${reason}`;
      },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("subscription not started within 20 s")), 20_000);
      client.subscribe(conversation, undefined, {
        onStarted: () => {
          clearTimeout(timer);
          resolve();
        },
        onEvent: (event) => onEvent(id, event),
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    }).then(
      () => {
        opened[index] = { id, conversationId: conversation, client };
      },
      (error: unknown) => {
        failed++;
        sample ??= String(error);
        client.close();
      },
    );
  }

  async function worker() {
    while (next < count) {
      await open(next++);
      const now = performance.now();
      if (now - lastReport > 1000) {
        lastReport = now;
        progress(`connecting ${next}/${count} (${failed} failed)`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  users = opened;
  const seconds = (performance.now() - started) / 1000;
  return { opened: opened.filter(Boolean).length, failed, seconds, perSecond: count / seconds, sample };
}

/** Open-loop load: messages leave on schedule whether or not earlier ones were answered. */
async function steady(rate: number, durationMs: number, warmupMs: number, label: string): Promise<SteadyResult> {
  const pairs = Math.floor(users.length / 2);
  if (pairs === 0) throw new Error("connect users first");
  pending.clear();
  const latency = new Samples();
  const ack = new Samples();
  const scheduleLag = new Samples();
  run = { latency, delivered: 0, drops: 0 };
  const dropsBefore = drops;
  let sendErrors = 0;
  let errorSample: string | undefined;
  let sent = 0;
  let k = 0;
  const total = warmupMs + durationMs;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const cpuBefore = process.cpuUsage();
  let measuring = false;
  const start = performance.now();

  const content = "x".repeat(60);
  function sendOne(index: number, due: number) {
    const pair = index % pairs;
    const side = Math.floor(index / pairs) % 2;
    const sender = users[pair * 2 + side];
    if (!sender) return;
    const measured = due - start >= warmupMs;
    const cmid = `${label}.${index}`;
    const sentAt = performance.now();
    if (measured) {
      if (!measuring) {
        measuring = true;
        loop.enable();
      }
      scheduleLag.push(sentAt - due);
      sent++;
    }
    pending.set(cmid, { sentAt, measured });
    sender.client.send(sender.conversationId, `bench ${index} ${content}`, cmid).then(
      () => {
        if (measured) ack.push(performance.now() - sentAt);
      },
      (error: unknown) => {
        pending.delete(cmid);
        if (!measured) return;
        sendErrors++;
        errorSample ??= error instanceof Error ? error.message : String(error);
      },
    );
  }

  await new Promise<void>((resolve) => {
    let lastReport = start;
    let lastDelivered = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - start, total);
      const due = Math.floor((elapsed * rate) / 1000);
      while (k < due) {
        sendOne(k, start + (k * 1000) / rate);
        k++;
      }
      if (now - lastReport >= 1000) {
        const delivered = run?.delivered ?? 0;
        progress(
          `${label}: ${(elapsed / 1000).toFixed(0)}/${(total / 1000).toFixed(0)} s, ${delivered - lastDelivered} delivered/s, ${pending.size} in flight, ${sendErrors} errors`,
        );
        lastReport = now;
        lastDelivered = delivered;
      }
      if (now - start >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const sendingEnded = performance.now();
  // Let the last messages land; what has not arrived after 5 s is lost.
  const drainUntil = sendingEnded + 5_000;
  while ([...pending.values()].some((entry) => entry.measured) && performance.now() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lost = [...pending.values()].filter((entry) => entry.measured).length;
  pending.clear();
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const wall = performance.now() - start;
  // The measured window is the span of the measured messages' due times: all of them are sent
  // by its end, however late the last timer tick ran, and that lateness is not slower delivery.
  const durationS = sent / rate;
  const result: SteadyResult = {
    offeredRate: rate,
    durationS,
    sent,
    sentTotal: k,
    delivered: run.delivered,
    deliveredPerS: durationS > 0 ? run.delivered / durationS : 0,
    latency: percentiles(latency.view()),
    ack: percentiles(ack.view()),
    errors: { send: sendErrors, lost, connection: drops - dropsBefore, sample: errorSample ?? dropSample },
    scheduleLagP99: percentiles(scheduleLag.view()).p99,
    loadCpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    loadLoopDelayP99: loop.count > 0 ? loop.percentile(99) / 1e6 : 0,
  };
  run = null;
  return result;
}

/** One message at a time between random pairs, each waited for: latency with nothing else going on. */
async function probe(count: number) {
  const pairs = Math.floor(users.length / 2);
  const latency = new Samples();
  let failures = 0;
  run = { latency, delivered: 0, drops: 0 };
  for (let i = 0; i < count; i++) {
    const pair = Math.floor(Math.random() * pairs);
    const sender = users[pair * 2];
    if (!sender) continue;
    const cmid = `probe.${Date.now()}.${i}`;
    pending.set(cmid, { sentAt: performance.now(), measured: true });
    const before = run.delivered;
    await sender.client.send(sender.conversationId, `probe ${i}`, cmid).catch(() => failures++);
    const deadline = performance.now() + 2_000;
    while (run.delivered === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    if (run.delivered === before) failures++;
    pending.delete(cmid);
  }
  run = null;
  return { latency: percentiles(latency.view()), failures };
}

async function catchUp(target: Target, prefix: string, lastEventId: string, expected: number): Promise<CatchUpResult> {
  const id = userId(prefix, 1);
  const client = createClient(target.kind, {
    url: target.urls[0] ?? "",
    token: tokenFor(target, id),
    onDrop: () => {},
  });
  const started = performance.now();
  let received = 0;
  let firstMs = 0;
  let lastSeq = -1;
  let inOrder = true;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`caught up ${received}/${expected} within 60 s`)), 60_000);
      client.subscribe(conversationId(prefix, 0), lastEventId, {
        onStarted: () => {},
        onEvent: (event) => {
          if (received === 0) firstMs = performance.now() - started;
          if (event.seq <= lastSeq) inOrder = false;
          lastSeq = event.seq;
          if (++received % 2000 === 0) progress(`catch-up ${received}/${expected}`);
          if (received >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    return { received, expected, firstMs, totalMs: performance.now() - started, inOrder };
  } finally {
    client.close();
  }
}

async function closeAll() {
  for (const user of users) user?.client.close();
  users = [];
  // Give the close frames time to leave before the next scenario measures anything.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

process.on("message", async (request: LoadRequest) => {
  try {
    let result: unknown;
    switch (request.op) {
      case "connect":
        result = await connect(request.target, request.prefix, request.users, request.concurrency);
        break;
      case "steady":
        result = await steady(request.rate, request.durationMs, request.warmupMs, request.label);
        break;
      case "probe":
        result = await probe(request.count);
        break;
      case "catchUp":
        result = await catchUp(request.target, request.prefix, request.lastEventId, request.expected);
        break;
      case "closeAll":
        await closeAll();
        break;
      case "exit":
        await closeAll();
        send({ type: "reply", id: request.id });
        process.disconnect();
        return;
    }
    send({ type: "reply", id: request.id, result });
  } catch (error) {
    send({
      type: "reply",
      id: request.id,
      error: errorText(error),
    });
  }
});
process.on("disconnect", () => process.exit(0));
