/**
 * The per-call path of tRPC and ws as patched in `patches/` (see docs/performance.md). On the
 * server (`@trpc__server`): the client's promise for a call no longer builds an AbortError after
 * its value has arrived; the middleware chain and response transform copy objects natively
 * instead of with the build's key-by-key helper, in ways that keep one hidden class per call
 * site; and a query or mutation over a WebSocket gets the connection's AbortSignal instead of
 * one of its own. On the client (`@trpc__client`): a call over an open WebSocket waits for the
 * next turn of the event loop, not for a timer, before it is sent with the other calls of its
 * tick, the queue of calls waiting to be sent is emptied in place rather than replaced, and each
 * call's operation is copied with one hidden class per call site. In `ws`: the receiver empties
 * its list of a text message's fragments in place. What they promise is unchanged, checked here.
 */
import type { AddressInfo } from "node:net";
import { sameHiddenClass } from "@naafe/api/testing";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { initTRPC } from "@trpc/server";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { observable, observableToPromise } from "@trpc/server/observable";
import superjson from "superjson";
import { describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";

describe("observableToPromise", () => {
  it("resolves with the first value and builds no AbortError afterwards", async () => {
    const built: unknown[] = [];
    const original = AbortController;
    // Counts the controllers the call creates: an AbortError is only built through one.
    globalThis.AbortController = class extends original {
      constructor() {
        super();
        built.push(this);
      }
    };
    try {
      const value = await observableToPromise(
        observable<number>((observer) => {
          observer.next(42);
          observer.complete();
        }),
      );
      expect(value).toBe(42);
      expect(built).toHaveLength(0);
    } finally {
      globalThis.AbortController = original;
    }
  });

  it("rejects like an aborted operation when the observable completes without a value", async () => {
    const call = observableToPromise(observable<number>((observer) => observer.complete()));
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects with the observable's error", async () => {
    const failure = new Error("boom");
    await expect(observableToPromise(observable<number>((observer) => observer.error(failure)))).rejects.toBe(failure);
  });
});

describe("middleware chain and response transform", () => {
  const t = initTRPC.context<{ user: string | null; trace: string[] }>().create({ transformer: superjson });
  const withRole = t.middleware(({ ctx, next }) => next({ ctx: { role: ctx.user ? "member" : "guest" } }));
  const router = t.router({
    whoami: t.procedure
      .use(withRole)
      .use(({ ctx, next }) => next({ ctx: { trace: [...ctx.trace, "second"] } }))
      .query(({ ctx }) => ({ user: ctx.user, role: ctx.role, trace: ctx.trace, at: new Date(0) })),
  });

  it("merges each middleware's ctx over the one before, keeping the rest", async () => {
    const caller = t.createCallerFactory(router)({ user: "ada", trace: ["first"] });
    await expect(caller.whoami()).resolves.toEqual({
      user: "ada",
      role: "member",
      trace: ["first", "second"],
      at: new Date(0),
    });
  });

  it("builds each call's middleware options and merged ctx with one hidden class", async () => {
    const seen: { opts: object; ctx: object }[] = [];
    const traced = t.router({
      whoami: t.procedure.use(withRole).query((opts) => {
        seen.push({ opts, ctx: opts.ctx });
        return opts.ctx.role;
      }),
    });
    const caller = t.createCallerFactory(traced)({ user: "ada", trace: [] });
    // On Node 20, `{ ...opts, meta, next }` built a new hidden class per call once warm.
    for (let i = 0; i < 50; i++) await caller.whoami();
    const [before, last] = seen.slice(-2) as [(typeof seen)[number], (typeof seen)[number]];
    expect(sameHiddenClass(before.opts, last.opts)).toBe(true);
    expect(sameHiddenClass(before.ctx, last.ctx)).toBe(true);
  });

  it("serializes a response's data with the transformer and leaves the envelope as it was", async () => {
    const { transformTRPCResponse } = await import("@trpc/server/unstable-core-do-not-import");
    const item = { id: 7, jsonrpc: "2.0" as const, result: { type: "data" as const, data: { at: new Date(0) } } };
    const sent = transformTRPCResponse(t._config, item);
    expect(sent).toEqual({
      id: 7,
      jsonrpc: "2.0",
      result: { type: "data", data: superjson.serialize({ at: new Date(0) }) },
    });
    expect(item.result.data.at).toBeInstanceOf(Date); // the input is not changed
  });
});

describe("calls over the WebSocket", () => {
  const t = initTRPC.create({ transformer: superjson });
  const signals: (AbortSignal | undefined)[] = [];
  const router = t.router({
    echo: t.procedure.input((value) => value as string).mutation(({ input }) => input),
    track: t.procedure.mutation(({ signal }) => void signals.push(signal)),
    ticks: t.procedure.subscription(async function* ({ signal }) {
      signals.push(signal);
      yield 1;
    }),
  });

  async function connect() {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    applyWSSHandler({ wss, router });
    const frames: string[] = [];
    wss.on("connection", (socket) => socket.on("message", (data) => frames.push(String(data))));
    await new Promise((resolve) => wss.once("listening", resolve));
    const wsClient = createWSClient({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const client = createTRPCClient<typeof router>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
    await client.echo.mutate("open"); // the socket is open from here on
    frames.length = 0;
    const close = async () => {
      await wsClient.close();
      await new Promise((resolve) => wss.close(resolve));
    };
    return { client, wsClient, frames, close };
  }

  it("sends a call on an open socket without waiting for a timer", async () => {
    const { client, close } = await connect();
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    try {
      await expect(client.echo.mutate("hello")).resolves.toBe("hello");
      // Unpatched, every call first sleeps on setTimeout(0): at least 1 ms in Node.
      expect(setTimeoutSpy.mock.calls.filter(([, ms]) => !ms)).toEqual([]);
    } finally {
      setTimeoutSpy.mockRestore();
      await close();
    }
  });

  it("still sends the calls of one tick together, in one frame", async () => {
    const { client, frames, close } = await connect();
    try {
      await expect(Promise.all([client.echo.mutate("a"), client.echo.mutate("b")])).resolves.toEqual(["a", "b"]);
      expect(frames).toHaveLength(1);
      expect(JSON.parse(frames[0] as string)).toHaveLength(2);
    } finally {
      await close();
    }
  });

  it("builds each call's operation with one hidden class", async () => {
    const ops: object[] = [];
    const client = createTRPCClient<typeof router>({
      links: [
        () =>
          ({ op }) =>
            observable((observer) => {
              ops.push(op);
              observer.next({ result: { type: "data", data: op.input } });
              observer.complete();
            }),
      ],
    });
    // On Node 20, `{ ...opts, context, id }` built a new hidden class per call once warm.
    for (let i = 0; i < 50; i++) await client.echo.mutate(`call ${i}`);
    expect(sameHiddenClass(ops[48] as object, ops[49] as object)).toBe(true);
  });

  it("gives queries and mutations the connection's signal, aborted when it closes, and a subscription its own", async () => {
    const { client, close } = await connect();
    signals.length = 0;
    await client.track.mutate();
    await client.track.mutate();
    const [first, second] = signals as [AbortSignal, AbortSignal];
    expect(first).toBeInstanceOf(AbortSignal);
    expect(second).toBe(first);
    expect(first.aborted).toBe(false);

    const started = new Promise<void>((resolve) => {
      const subscription = client.ticks.subscribe(undefined, {
        onData: () => {
          subscription.unsubscribe();
          resolve();
        },
      });
    });
    await started;
    expect(signals[2]).toBeInstanceOf(AbortSignal);
    expect(signals[2]).not.toBe(first);

    const aborted = new Promise((resolve) => first.addEventListener("abort", resolve));
    await close();
    await aborted;
    expect(first.aborted).toBe(true);
  });

  it("empties the queue of calls waiting to be sent in place, once sent or aborted", async () => {
    const { client, wsClient, close } = await connect();
    // A replaced queue that had grown old kept the calls it held alive through young
    // collections (docs/performance.md); the same array, emptied, holds nothing.
    const { requestManager } = wsClient as unknown as { requestManager: { getOutgoingRequests(): unknown[] } };
    const queue = requestManager.getOutgoingRequests();
    try {
      const sent = client.echo.mutate("sent");
      expect(queue).toHaveLength(1);
      await expect(sent).resolves.toBe("sent");
      expect(requestManager.getOutgoingRequests()).toBe(queue);
      expect(queue).toHaveLength(0);

      const controller = new AbortController();
      const aborted = client.echo.mutate("aborted", { signal: controller.signal });
      expect(queue).toHaveLength(1);
      controller.abort();
      await expect(aborted).rejects.toThrow();
      expect(requestManager.getOutgoingRequests()).toBe(queue);
      expect(queue).toHaveLength(0);
    } finally {
      await close();
    }
  });
});

describe("ws's receiver", () => {
  /** ws's frame parser, which `@types/ws` leaves out. */
  interface FrameReceiver {
    _fragments: Buffer[];
    on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): void;
    write(chunk: Buffer): void;
  }
  const frame = (opcode: number, fin: boolean, text: string) =>
    Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, text.length]), Buffer.from(text)]);

  it("empties a text message's list of fragments in place", async () => {
    const { Receiver } = (await import("ws")) as unknown as { Receiver: new (options: object) => FrameReceiver };
    const receiver = new Receiver({ isServer: false });
    const messages: string[] = [];
    receiver.on("message", (data) => messages.push(String(data)));
    // A replaced list that had grown old while the connection was quiet kept the message
    // alive through young collections (docs/performance.md); the same list, emptied, holds nothing.
    const fragments = receiver._fragments;
    receiver.write(frame(0x1, true, "hello"));
    receiver.write(Buffer.concat([frame(0x1, false, "in "), frame(0x0, false, "three "), frame(0x0, true, "parts")]));
    expect(messages).toEqual(["hello", "in three parts"]);
    expect(receiver._fragments).toBe(fragments);
    expect(fragments).toHaveLength(0);
  });
});
