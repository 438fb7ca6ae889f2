/**
 * tRPC's WebSocket adapter, as patched in `patches/@trpc__server@11.25.2.patch` (see
 * docs/performance.md), checked over a real socket with raw frames. The subscription loop waits
 * with one resolver per value instead of `Unpromise.race`: a stopped subscription sends nothing
 * more and its generator is cleaned up, values and errors still reach the client. The
 * keep-alive re-arms one timer per connection instead of a new one per frame: the server relies
 * on it to drop connections that went silent without closing.
 */
import type { AddressInfo } from "node:net";
import { initTRPC } from "@trpc/server";
import { applyWSSHandler, type WSSHandlerOptions } from "@trpc/server/adapters/ws";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";

const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 5_000, interval: 10 });

/** A generator that ignores its signal: only tRPC's loop can stop listening to it. */
function stubbornSource() {
  let release = () => {};
  const state = { cleanedUp: false, released: new Promise<void>((resolve) => (release = resolve)) };
  async function* values() {
    try {
      yield 1;
      await state.released;
      yield 2;
      yield 3;
    } finally {
      state.cleanedUp = true;
    }
  }
  return { state, values, release: () => release() };
}

const t = initTRPC.create();
let source = stubbornSource();
const router = t.router({
  stubborn: t.procedure.subscription(() => source.values()),
  counter: t.procedure.subscription(async function* () {
    for (let i = 0; i < 1_000; i++) yield i;
  }),
  failing: t.procedure.subscription(async function* () {
    yield "first";
    throw new Error("the source broke");
  }),
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A patched adapter serving `router`, and one raw client connected to it. */
async function serve(keepAlive?: WSSHandlerOptions<typeof router>["keepAlive"]) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  applyWSSHandler({ wss, router, keepAlive });
  await new Promise((resolve) => wss.once("listening", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((resolve) => client.once("open", resolve));
  closers.push(async () => {
    client.close();
    await new Promise((resolve) => wss.close(resolve));
  });
  return client;
}

async function connect() {
  const client = await serve();
  const frames: { id: number; result?: { type: string; data?: unknown }; error?: { message: string } }[] = [];
  let pongs = 0;
  client.on("message", (data) => {
    if (String(data) === "PONG") pongs++;
    else frames.push(JSON.parse(String(data)));
  });
  const send = (frame: object) => client.send(JSON.stringify(frame));
  /** tRPC answers PING in order with the frames before it. */
  const roundTrip = async () => {
    const before = pongs;
    client.send("PING");
    await waitFor(() => expect(pongs).toBe(before + 1));
  };
  return {
    frames,
    send,
    roundTrip,
    dataOf: (id: number) => frames.filter((f) => f.id === id && f.result?.type === "data"),
  };
}

describe("tRPC's WebSocket subscription loop (patched)", () => {
  it("stops waiting when the client stops the subscription: nothing more is sent, the generator is cleaned up", async () => {
    source = stubbornSource();
    const { send, dataOf, frames, roundTrip } = await connect();
    send({ id: 1, method: "subscription", params: { path: "stubborn", input: null } });
    await waitFor(() => expect(dataOf(1).map((f) => f.result?.data)).toEqual([1]));

    send({ id: 1, method: "subscription.stop" });
    await roundTrip(); // the server has handled the stop
    source.release(); // the generator now has more values: none may go out
    await waitFor(() => expect(frames.some((f) => f.id === 1 && f.result?.type === "stopped")).toBe(true));
    expect(source.state.cleanedUp).toBe(true);
    await roundTrip();
    expect(dataOf(1).map((f) => f.result?.data)).toEqual([1]);
  });

  it("hands every value over, in order, through many waits", async () => {
    const { send, dataOf } = await connect();
    send({ id: 7, method: "subscription", params: { path: "counter", input: null } });
    await waitFor(() => expect(dataOf(7)).toHaveLength(1_000));
    expect(dataOf(7).map((f) => f.result?.data)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it("reports an error thrown by the source after its first value", async () => {
    const { send, dataOf, frames } = await connect();
    send({ id: 3, method: "subscription", params: { path: "failing", input: null } });
    await waitFor(() => expect(frames.some((f) => f.id === 3 && f.error)).toBe(true));
    expect(dataOf(3).map((f) => f.result?.data)).toEqual(["first"]);
    expect(frames.find((f) => f.id === 3 && f.error)?.error?.message).toBe("the source broke");
  });
});

describe("tRPC's WebSocket keep-alive (patched)", () => {
  const PING_MS = 300;
  const PONG_WAIT_MS = 200;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function watched() {
    const client = await serve({ enabled: true, pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS });
    const state = { pings: 0, closed: false };
    client.on("message", (data) => {
      if (String(data) === "PING") state.pings++;
    });
    client.on("close", () => {
      state.closed = true;
    });
    return { client, state };
  }

  it("pings a quiet connection and drops it when no answer comes", async () => {
    const { state } = await watched();
    await waitFor(() => expect(state.closed).toBe(true));
    expect(state.pings).toBe(1);
  });

  it("keeps a connection that answers every ping, pinging it again each time", async () => {
    const { client, state } = await watched();
    client.on("message", (data) => {
      if (String(data) === "PING") client.send("PONG");
    });
    await waitFor(() => expect(state.pings).toBe(3));
    expect(state.closed).toBe(false);
  });

  it("does not ping a connection while it keeps sending", async () => {
    const { client, state } = await watched();
    for (let elapsed = 0; elapsed < 4 * PING_MS; elapsed += PING_MS / 6) {
      client.send("PONG");
      await sleep(PING_MS / 6);
    }
    expect(state.pings).toBe(0);
    expect(state.closed).toBe(false);
    // Then silence: pinged, and dropped without an answer.
    await waitFor(() => expect(state.closed).toBe(true));
    expect(state.pings).toBe(1);
  });
});
