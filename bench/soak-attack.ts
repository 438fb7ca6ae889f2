/**
 * The soak's hostile clients, in a process of their own (so their work does not slow the honest
 * clients' measurements): anonymous sockets that never sign in, bad tokens, oversized batches
 * and batches of writes, subscription churn past the caps. The soak starts and pauses them over
 * IPC; at the end they report what they did, and every answer that shows a defence not holding.
 * Each kind runs at a fixed pace (`RATES`), so the attack is the same however fast the server
 * answers, and the machine's two cores are not simply taken by the attacker's own process.
 *
 * Anonymous sockets come from 127.0.0.2 (their own address, as a real attacker's would); bad
 * tokens come from 127.0.0.1, the honest users' address, whom they must not lock out.
 */
import { signToken } from "@naafe/api";
import WebSocket from "ws";
import { connectClient } from "../apps/server/test/harness.ts";

const url = process.env["SOAK_URL"] ?? "";
const secret = process.env["SOAK_SECRET"] ?? "";
const wsUrl = `${url.replace(/^http/, "ws")}/trpc`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ANONYMOUS = 300; // above the per-address cap (256 by default)
/** Per second: bad tokens (one over HTTP and one over WebSocket each), and each kind of batch. */
const RATES = { badTokens: 20, oversizedBatches: 25, writeBatches: 25 };
const AUTH_TIMEOUT_MS = 10_000; // the server's default WS_AUTH_TIMEOUT_MS

const counts: Record<string, number> = {};
const count = (what: string) => {
  counts[what] = (counts[what] ?? 0) + 1;
};
const breaches: string[] = [];

/** Runs `step` about `perSecond` times a second while the attack is on. */
async function paced(perSecond: number, step: () => Promise<void>) {
  while (await whileOn()) {
    const started = Date.now();
    await step();
    await sleep(Math.max(0, 1_000 / perSecond - (Date.now() - started)));
  }
}
const breach = (what: string) => {
  if (breaches.length < 50) breaches.push(what);
};

let attacking = false;
let stopping = false;
let changed = signal();
/** A promise and the function that resolves it (Node 20 has no Promise.withResolvers). */
function signal() {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
/** Open anonymous sockets, closed at once when the attack pauses. */
const anonymous = new Set<WebSocket>();
/** True while the attack is on (waiting while it is paused); false once it stops. */
async function whileOn() {
  while (!attacking && !stopping) await changed.promise;
  return !stopping;
}
process.on("message", (message: { type: "attack" | "pause" | "stop" }) => {
  attacking = message.type === "attack";
  stopping = message.type === "stop";
  if (!attacking) for (const ws of anonymous) ws.terminate();
  changed.resolve();
  changed = signal();
});

const token = (id: string) => signToken({ secret }, { id, name: id }, "12h");
const forged = signToken({ secret: `${secret}-not-ours` }, { id: "mallory", name: "mallory" }, "12h");
const superjsonInput = (json: unknown) => ({ json });

async function trpc(path: string, init: RequestInit = {}) {
  try {
    const response = await fetch(`${url}/trpc/${path}`, init);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // the server is restarting
  }
}

/** A socket that closes with its code, or 0 when the upgrade itself was refused or failed. */
function openSocket(path: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(`${wsUrl}${path}`, options);
  const closed = new Promise<{ code: number; status: number }>((resolve) => {
    let status = 0; // no answer (the server is restarting) until the upgrade or a refusal says otherwise
    ws.once("upgrade", () => (status = 101));
    ws.on("unexpected-response", (_request, response) => {
      status = response.statusCode ?? 0;
      response.resume();
      resolve({ code: 0, status });
      ws.terminate();
    });
    ws.on("error", () => resolve({ code: 0, status }));
    ws.on("close", (code) => resolve({ code, status }));
  });
  const opened = new Promise<boolean>((resolve) => {
    ws.once("open", () => resolve(true));
    void closed.then(() => resolve(false));
  });
  return { ws, opened, closed };
}

/** Sockets that never sign in: held open until the server's deadline closes them, then opened again. */
async function anonymousSockets() {
  const hold = async () => {
    while (await whileOn()) {
      const openedAt = Date.now();
      const socket = openSocket("?connectionParams=1", { localAddress: "127.0.0.2" });
      if (!(await socket.opened)) {
        const { status } = await socket.closed;
        count(status === 429 ? "anonymous refused on upgrade (429)" : "anonymous upgrade failed");
        await sleep(1_000);
        continue;
      }
      count("anonymous opened");
      anonymous.add(socket.ws);
      const { code } = await socket.closed;
      anonymous.delete(socket.ws);
      const heldMs = Date.now() - openedAt;
      if (code === 4401) count("anonymous closed at the sign-in deadline (4401)");
      else if (attacking) count(`anonymous closed ${code}`);
      if (code === 4401 && heldMs > AUTH_TIMEOUT_MS + 5_000) breach(`anonymous socket held ${heldMs} ms`);
    }
  };
  await Promise.all(Array.from({ length: ANONYMOUS }, hold));
}

/** Bad tokens over HTTP and WebSocket from the honest users' address. */
async function badTokens() {
  await paced(RATES.badTokens, async () => {
    const status = await trpc("chat.conversations?input=%7B%7D", { headers: { authorization: `Bearer ${forged}` } });
    count(`bad token over HTTP: ${status}`);
    const socket = openSocket("", { headers: { authorization: `Bearer ${forged}` } });
    const { code, status: upgrade } = await socket.closed;
    count(`bad token over WebSocket: ${code || upgrade}`);
    if (upgrade === 101 && code !== 4401 && code !== 4429) breach(`bad token closed with ${code}`);
    if (status === 0) await sleep(500);
  });
}

/** A signed-in attacker with a conversation of its own, for the abuse that needs one. */
async function ownConversation() {
  const seeker = connectClient(url, token("attacker-seeker"));
  const provider = connectClient(url, token("attacker-provider"));
  const job = await seeker.client.jobRequest.create.mutate({ title: "Attacker's job" });
  const offer = await provider.client.offer.create.mutate({ jobRequestId: job.id });
  const { conversation } = await seeker.client.offer.accept.mutate({ offerId: offer.id });
  seeker.ws.close();
  provider.ws.close();
  return conversation.id;
}

/** Batches past the cap (refused whole) and full batches of writes (rate-limited). */
async function batches(conversationId: string) {
  const auth = { authorization: `Bearer ${token("attacker-seeker")}` };
  const batchOf = (n: number, path: string, input: unknown) => ({
    paths: Array.from({ length: n }, () => path).join(","),
    input: JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, superjsonInput(input)]))),
  });
  const oversized = batchOf(110, "chat.messages", { conversationId, limit: 100 });
  const writes = batchOf(16, "chat.markRead", { conversationId });
  const oversizedPath = `${oversized.paths}?batch=1&input=${encodeURIComponent(oversized.input)}`;
  await Promise.all([
    paced(RATES.oversizedBatches, async () => {
      const status = await trpc(oversizedPath, { headers: auth });
      count(`110-call batch: ${status}`);
      if (status >= 200 && status < 300) breach("a 110-call batch was answered");
      if (status === 0) await sleep(500);
    }),
    paced(RATES.writeBatches, async () => {
      const status = await trpc(`${writes.paths}?batch=1`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: writes.input,
      });
      count(`16 markRead batch: ${status}`);
      if (status === 0) await sleep(500);
    }),
  ]);
}

/** Subscribes up to just past the per-connection cap, then starts again on a new connection, about once every 2 s. */
async function subscriptionChurn(conversationId: string) {
  const input = superjsonInput({ conversationId, lastEventId: null });
  while (await whileOn()) {
    const socket = openSocket("", { headers: { authorization: `Bearer ${token("attacker-provider")}` } });
    if (!(await socket.opened)) {
      count("churn connection refused");
      await sleep(500);
      continue;
    }
    let id = 0;
    for (; id < 101 && socket.ws.readyState === WebSocket.OPEN; id++) {
      socket.ws.send(JSON.stringify({ id, method: "subscription", params: { path: "chat.onMessage", input } }));
      if (id % 10 === 9)
        for (let stop = id - 9; stop < id - 4; stop++)
          socket.ws.send(JSON.stringify({ id: stop, method: "subscription.stop" }));
      await sleep(5);
    }
    const closedBy = await Promise.race([socket.closed, sleep(2_000).then(() => null)]);
    count(`churn: ${closedBy ? `closed ${closedBy.code}` : "still open after 101 subscriptions, half stopped"}`);
    // Half of each ten were stopped, so 101 never reached the cap of 100; now go past it.
    if (!closedBy) {
      for (let extra = 0; extra < 60 && socket.ws.readyState === WebSocket.OPEN; extra++)
        socket.ws.send(
          JSON.stringify({ id: id + extra, method: "subscription", params: { path: "chat.onMessage", input } }),
        );
      const past = await Promise.race([socket.closed, sleep(2_000).then(() => null)]);
      count(`churn past the cap: ${past ? `closed ${past.code}` : "open"}`);
      if (past?.code !== 4429) breach(`churn past the cap ended ${past ? past.code : "open"}`);
    }
    socket.ws.terminate();
    await sleep(1_000);
  }
}

/** The pace each kind of attack was set to, for the report. */
function rates() {
  return {
    "paced: bad tokens per second (HTTP and WebSocket each)": RATES.badTokens,
    "paced: 110-call batches per second": RATES.oversizedBatches,
    "paced: 16-call markRead batches per second": RATES.writeBatches,
    "paced: anonymous sockets held from one address": ANONYMOUS,
  };
}

process.send?.({ type: "ready" });
await whileOn();
const conversationId = await ownConversation();
await Promise.all([anonymousSockets(), badTokens(), batches(conversationId), subscriptionChurn(conversationId)]);
process.send?.({ type: "report", counts: { ...counts, ...rates() }, breaches });
process.disconnect?.();
