/**
 * The WebSocket transport's protocol over a real socket with raw frames: the subscription loop
 * (a stop ends the wait for the next value at once), backpressure, limits counted on parsed
 * frames, and the keep-alive that drops connections gone silent without closing.
 */
import type { AddressInfo } from "node:net";
import { initTRPC } from "@trpc/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { closeCodes } from "./admission.ts";
import { type ConnectionLimits, serveConnection } from "./connection.ts";

const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 5_000, interval: 10 });

/** A generator that ignores its signal: only the transport's loop can stop listening to it. */
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

const t = initTRPC.context<{ user: { id: string } | null }>().create();
let source = stubbornSource();
const router = t.router({
  stubborn: t.procedure.subscription(() => source.values()),
  counter: t.procedure.subscription(async function* () {
    for (let i = 0; i < 1_000; i++) yield i;
  }),
  /** 4 MB in 1,000 values of 4 KB, produced as fast as they are asked for. */
  flood: t.procedure.subscription(async function* () {
    for (let i = 0; i < 1_000; i++) yield `${i}:${"x".repeat(4_096)}`;
  }),
  failing: t.procedure.subscription(async function* () {
    yield "first";
    throw new Error("the source broke");
  }),
  quiet: t.procedure.subscription(async function* ({ signal }) {
    await new Promise((resolve) => signal?.addEventListener("abort", resolve));
  }),
  echo: t.procedure.input((value: unknown) => value).query(({ input }) => input),
  resumable: t.procedure
    .input((value: unknown) => value)
    .subscription(async function* ({ input }) {
      yield input;
    }),
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const defaults: ConnectionLimits = {
  maxSubscriptionsPerConnection: 5,
  maxBatchSize: 4,
  authTimeoutMs: 5_000,
  maxBufferedBytes: 256 * 1024,
  drainTimeoutMs: 1_000,
  pingMs: 60_000,
  pongWaitMs: 10_000,
};

/** The transport's connection handler serving `router`, and one raw client connected to it. */
async function serve(limits: Partial<ConnectionLimits> = {}, query = "") {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const sockets: WebSocket[] = [];
  wss.on("connection", (ws, req) => {
    sockets.push(ws);
    serveConnection(
      ws,
      (ws as unknown as { _socket: import("node:stream").Duplex })._socket,
      req,
      {
        router,
        limits: { ...defaults, ...limits },
        onError: () => {},
        signIn: (token) => (token === "good" ? { user: { id: "u1" } } : { user: null }),
      },
      () => () => {},
    );
  });
  await new Promise((resolve) => wss.once("listening", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/${query}`, {
    headers: query ? {} : { authorization: "Bearer good" },
  });
  await new Promise((resolve) => client.once("open", resolve));
  closers.push(async () => {
    client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return { client, server: () => sockets[0] };
}

function closeOf(client: WebSocket) {
  return new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
}

async function connect(limits: Partial<ConnectionLimits> = {}) {
  const { client } = await serve(limits);
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
    client,
  };
}

describe("the subscription loop", () => {
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

describe("the keep-alive", () => {
  const PING_MS = 300;
  const PONG_WAIT_MS = 200;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function watched() {
    const { client } = await serve({ pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS });
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

describe("resuming", () => {
  it("hands a resubscription's lastEventId to the procedure in its input, as wsLink expects", async () => {
    const { send, dataOf } = await connect();
    send({
      id: 1,
      method: "subscription",
      params: { path: "resumable", input: { conversationId: "c" }, lastEventId: "m7" },
    });
    send({ id: 2, method: "subscription", params: { path: "resumable", input: null, lastEventId: "m8" } });
    await waitFor(() =>
      expect(dataOf(1).map((f) => f.result?.data)).toEqual([{ conversationId: "c", lastEventId: "m7" }]),
    );
    await waitFor(() => expect(dataOf(2).map((f) => f.result?.data)).toEqual([{ lastEventId: "m8" }]));
  });
});

describe("backpressure", () => {
  it("follows a client that reads slowly instead of cutting it off: every value arrives, in order", async () => {
    const { send, dataOf, client } = await connect();
    const socket = (client as unknown as { _socket: import("node:net").Socket })._socket;
    send({ id: 1, method: "subscription", params: { path: "flood", input: null } });
    // Read in bursts with pauses: far more than the 256 KB bound is produced meanwhile.
    for (let i = 0; i < 8 && dataOf(1).length < 1_000; i++) {
      socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.resume();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => expect(dataOf(1)).toHaveLength(1_000));
    expect(dataOf(1).map((f) => String(f.result?.data).split(":")[0])).toEqual(
      Array.from({ length: 1_000 }, (_, i) => String(i)),
    );
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it("drops a client that stops reading, once it has not drained its queue in time", async () => {
    const { client, server } = await serve();
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    client.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "flood", input: null } }));
    // The client reads nothing, not even the close frame: the server cuts it off.
    await waitFor(() => expect(server()?.readyState).toBe(WebSocket.CLOSED));
    expect(server()?.bufferedAmount ?? 0).toBeLessThan(defaults.maxBufferedBytes + 64 * 1024);
  });
});

describe("limits counted on parsed frames", () => {
  it("counts subscriptions however the frame spells them", async () => {
    const { client } = await serve({ maxSubscriptionsPerConnection: 2 });
    const closed = closeOf(client);
    for (let id = 1; id <= 3; id++) {
      // `\u0073ubscription` is "subscription" in JSON: a substring check would miss it.
      client.send(`{"id":${id},"method":"\\u0073ubscription","params":{"path":"quiet","input":null}}`);
    }
    expect(await closed).toBe(closeCodes.tooMany);
  });

  it("refuses a frame batching more calls than allowed, answering without running them", async () => {
    const { send, frames } = await connect({ maxBatchSize: 2 });
    send([1, 2, 3].map((id) => ({ id, method: "query", params: { path: "echo", input: id } })));
    await waitFor(() => expect(frames).toHaveLength(1));
    expect(frames[0]).toMatchObject({ id: null, error: { message: "At most 2 calls in one frame." } });
  });

  it("answers a malformed frame with a plain message, nothing of the parser's internals", async () => {
    const { client, frames } = await connect();
    client.send("{not json");
    await waitFor(() => expect(frames).toHaveLength(1));
    expect(frames[0]?.error?.message).toBe("That frame is not a tRPC message.");
  });
});

describe("sign-in", () => {
  it("closes a connection that never sends its connectionParams once the deadline passes", async () => {
    const { client } = await serve({ authTimeoutMs: 100 }, "?connectionParams=1");
    expect(await closeOf(client)).toBe(closeCodes.unauthorized);
  });

  it("signs in from the first frame's connectionParams", async () => {
    const { client } = await serve({}, "?connectionParams=1");
    const frames: string[] = [];
    client.on("message", (data) => frames.push(String(data)));
    client.send(JSON.stringify({ method: "connectionParams", data: { token: "good" } }));
    client.send(JSON.stringify({ id: 1, method: "query", params: { path: "echo", input: "hi" } }));
    await waitFor(() => expect(frames).toEqual([JSON.stringify({ id: 1, result: { type: "data", data: "hi" } })]));
  });

  it("refuses a bad token in the connectionParams with 4401", async () => {
    const { client } = await serve({}, "?connectionParams=1");
    const closed = closeOf(client);
    client.send(JSON.stringify({ method: "connectionParams", data: { token: "forged" } }));
    expect(await closed).toBe(closeCodes.unauthorized);
  });
});
