import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppRouter, signToken } from "@naafe/api";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from "@trpc/client";
import type { Unsubscribable } from "@trpc/server/observable";
import superjson from "superjson";
import WebSocket from "ws";
import { type Config, loadConfig } from "../src/env.ts";
import { startServer } from "../src/server.ts";

/** A port nothing listens on right now, for servers started as separate processes. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const SECRET = "e2e-secret-that-is-long-enough-for-hs256";

/**
 * A real server on a free port and a private PGlite folder; `restart()` keeps port and data.
 * `adjust` changes what env cannot express (a test's own HTTP agent, say).
 */
export async function startTestServer(env: Record<string, string> = {}, adjust: (config: Config) => Config = (c) => c) {
  const dataDir = await mkdtemp(join(tmpdir(), "naafe-e2e-"));
  const loaded = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    JWT_SECRET: SECRET,
    DEMO: "false",
    LOG_LEVEL: "silent",
    WEB_DIST: join(dataDir, "no-web-app"),
    ...env,
  });
  const config = adjust(loaded);
  let server = await startServer(config);
  const port = server.port;
  return {
    url: server.url,
    config,
    token: (id: string, expiresIn: `${number}s` | `${number}h` = "1h") =>
      signToken(config.auth, { id, name: id }, expiresIn),
    /** Graceful stop, then a new process-equivalent on the same port and data. */
    async restart(whileDown?: () => Promise<void>) {
      await server.close();
      await whileDown?.();
      server = await startServer({ ...config, port });
    },
    get server() {
      return server;
    },
    async [Symbol.asyncDispose]() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A user's client as the web app builds it: HTTP for queries and mutations, WebSocket for
 * subscriptions; with `allOverWebSocket`, every call goes over the one WebSocket.
 */
export function connectClient(baseUrl: string, token: string | null, { allOverWebSocket = false } = {}) {
  const closeCodes: number[] = [];
  const ws = createWSClient({
    url: `${baseUrl.replace(/^http/, "ws")}/trpc`,
    connectionParams: () => (token ? { token } : {}),
    retryDelayMs: () => 50,
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    onClose: (cause) => closeCodes.push(cause?.code ?? 0),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => allOverWebSocket || op.type === "subscription",
        true: wsLink({ client: ws, transformer: superjson }),
        false: httpBatchLink({
          url: `${baseUrl}/trpc`,
          transformer: superjson,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      }),
    ],
  });
  return { client, ws, closeCodes, [Symbol.asyncDispose]: () => ws.close() };
}

/** A client's subscription procedure; `T` is inferred from the async-iterator form of `subscribe`. */
interface Subscribable<TInput, T> {
  subscribe(input: TInput): AsyncIterable<T>;
}

interface Handlers<T> {
  onStarted: () => void;
  onData: (data: T) => void;
  onError: (error: unknown) => void;
}

/** Subscribes and collects the events; `started` resolves once the server has attached the subscription. */
export function record<TInput, T>(procedure: Subscribable<TInput, T>, input: TInput) {
  const events: T[] = [];
  const errors: unknown[] = [];
  let started = () => {};
  const startedPromise = new Promise<void>((resolve) => {
    started = resolve;
  });
  // The callback form of the same `subscribe`, for `onStarted`.
  const withCallbacks = procedure as unknown as { subscribe(input: TInput, handlers: Handlers<T>): Unsubscribable };
  const subscription = withCallbacks.subscribe(input, {
    onStarted: () => started(),
    onData: (data) => events.push(data),
    onError: (error) => errors.push(error),
  });
  return { events, errors, started: startedPromise, stop: () => subscription.unsubscribe() };
}
