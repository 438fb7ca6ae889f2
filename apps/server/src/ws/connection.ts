import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { bearerToken } from "@naafe/api";
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
  type TRPCError as TRPCErrorType,
} from "@trpc/server";
import { parseConnectionParamsFromUnknown } from "@trpc/server/http";
import { parseTRPCMessage, type TRPCClientOutgoingMessage, type TRPCResponseMessage } from "@trpc/server/rpc";
import type { WebSocket } from "ws";
import { closeCodes } from "./admission.ts";
import { pipeSubscription } from "./subscription.ts";
import { createWriter } from "./writer.ts";

export interface ConnectionLimits {
  maxSubscriptionsPerConnection: number;
  /** Calls in one frame. */
  maxBatchSize: number;
  /** How long a connection may stay without a valid token before it is closed. */
  authTimeoutMs: number;
  maxBufferedBytes: number;
  drainTimeoutMs: number;
  /** A quiet connection is pinged after `pingMs` and dropped if nothing comes within `pongWaitMs`. */
  pingMs: number;
  pongWaitMs: number;
}

/** What a connection's calls run with: at least its signed-in user. */
export interface ConnectionContext {
  user: { id: string } | null;
}

/** Signs a connection in: its context, or a close code and reason to refuse it with. */
export type SignIn<C extends ConnectionContext> = (token: string | null) => C | { code: number; reason: string };

export type ReportError = (error: TRPCErrorType, path: string | undefined) => void;

export interface ConnectionOptions<C extends ConnectionContext> {
  router: AnyTRPCRouter;
  limits: ConnectionLimits;
  signIn: SignIn<C>;
  onError: ReportError;
}

type Call = Extract<TRPCClientOutgoingMessage, { method: "query" | "mutation" | "subscription" }> & {
  id: string | number;
};

/**
 * One client's WebSocket, speaking tRPC's protocol (the same frames as tRPC's own adapter, so
 * `wsLink` talks to it unchanged): sign-in from the upgrade's Authorization header or the first
 * frame's connectionParams, calls and subscriptions, keep-alive. `signedIn` runs once the
 * connection has a user; what it returns runs when the connection closes.
 */
export function serveConnection<C extends ConnectionContext>(
  ws: WebSocket,
  socket: Duplex,
  req: IncomingMessage,
  { router, limits, signIn, onError }: ConnectionOptions<C>,
  signedIn: (ctx: C & { user: NonNullable<C["user"]> }) => () => void,
) {
  const config = router._def._config;
  const subscriptions = new Map<string | number, AbortController>();
  const closed = new AbortController();
  const writer = createWriter(ws, socket, {
    maxBufferedBytes: limits.maxBufferedBytes,
    drainTimeoutMs: limits.drainTimeoutMs,
    onSlow: () => closeSlow(),
  });
  let ctx: C | null = null;
  let onClosed: (() => void) | undefined;

  function closeSlow() {
    if (ws.readyState !== ws.OPEN) return;
    ws.close(closeCodes.slowConsumer, "Reading too slowly; reconnect to catch up.");
    // A peer that does not read will not read our close frame either.
    setTimeout(() => ws.terminate(), 1_000).unref();
  }

  const { output } = config.transformer;
  /**
   * Sends a response with its data or error serialised by the router's transformer, in place:
   * every message here is built for this one frame (tRPC's `transformTRPCResponse` copies it twice).
   */
  function respond(message: TRPCResponseMessage) {
    if ("error" in message) message.error = output.serialize(message.error);
    else if ("data" in message.result) message.result.data = output.serialize(message.result.data);
    writer.send(JSON.stringify(message));
  }

  function respondError(id: string | number | null, error: TRPCErrorType, call?: Call) {
    const path = call?.params.path;
    onError(error, path);
    const shape = getErrorShape({
      config,
      error,
      type: call?.method ?? "unknown",
      path,
      input: call?.params.input,
      ctx: ctx ?? undefined,
    });
    respond({ id, error: shape });
  }

  function accept(token: string | null) {
    const result = signIn(token);
    if ("code" in result || !result.user) {
      const refusal = "code" in result ? result : { code: closeCodes.unauthorized, reason: "Sign in to use the chat." };
      ws.close(refusal.code, refusal.reason);
      return;
    }
    clearTimeout(authDeadline);
    ctx = result;
    onClosed = signedIn(result as C & { user: NonNullable<C["user"]> });
  }

  // The token comes with the upgrade (Authorization header) or in the first frame (wsLink's connectionParams).
  const awaitsParams = new URL(req.url ?? "/", "http://localhost").searchParams.get("connectionParams") === "1";
  const authDeadline = setTimeout(
    () => ws.close(closeCodes.unauthorized, "No sign-in in time; connect again with a token."),
    limits.authTimeoutMs,
  );
  if (!awaitsParams) accept(bearerToken(req.headers.authorization));

  async function run(call: Call, index: number) {
    const { id } = call;
    const { path, lastEventId } = call.params;
    const type = call.method;
    // A resubscribing wsLink sends the last event id it saw beside the input: the procedure reads it from its input.
    const input = lastEventId === undefined ? call.params.input : withLastEventId(call.params.input, lastEventId);
    if (type === "subscription") {
      if (subscriptions.has(id))
        return respondError(id, new TRPCError({ code: "BAD_REQUEST", message: `Duplicate id ${id}` }), call);
      if (subscriptions.size >= limits.maxSubscriptionsPerConnection) {
        ws.close(closeCodes.tooMany, "Too many subscriptions on one connection.");
        return;
      }
    }
    const stop = type === "subscription" ? new AbortController() : closed;
    if (type === "subscription") subscriptions.set(id, stop);
    try {
      const result = await callTRPCProcedure({
        router,
        path,
        getRawInput: async () => input,
        ctx,
        type,
        signal: stop.signal,
        batchIndex: index,
      });
      if (type !== "subscription") return respond({ id, result: { type: "data", data: result } });
      if (stop.signal.aborted) return;
      respond({ id, result: { type: "started" } });
      await pipeSubscription(result as AsyncIterable<unknown>, stop.signal, writer, (data) =>
        respond({ id, result: data }),
      );
      respond({ id, result: { type: "stopped" } });
    } catch (cause) {
      if (!(type === "subscription" && stop.signal.aborted)) respondError(id, getTRPCErrorFromUnknown(cause), call);
    } finally {
      if (type === "subscription") subscriptions.delete(id);
    }
  }

  function onFrame(text: string) {
    if (text === "PONG") return;
    if (text === "PING") return writer.send("PONG");
    if (!ctx && awaitsParams) return acceptParams(text);
    if (!ctx) return; // refused, closing
    let calls: Call[];
    try {
      const parsed: unknown = JSON.parse(text);
      const list = Array.isArray(parsed) ? parsed : [parsed];
      if (list.length > limits.maxBatchSize) {
        return respondError(
          null,
          new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `At most ${limits.maxBatchSize} calls in one frame.` }),
        );
      }
      const messages = list.map((raw) => parseTRPCMessage(raw, config.transformer));
      calls = [];
      for (const message of messages) {
        if (message.method === "subscription.stop") subscriptions.get(message.id ?? "")?.abort();
        else if (message.id === null) throw new Error("`id` is required");
        else calls.push(message as Call);
      }
    } catch {
      return respondError(null, new TRPCError({ code: "PARSE_ERROR", message: "That frame is not a tRPC message." }));
    }
    for (const [index, call] of calls.entries()) void run(call, index);
  }

  function acceptParams(text: string) {
    try {
      const message = JSON.parse(text) as { method?: unknown; data?: unknown };
      if (message.method !== "connectionParams") throw new Error("expected connectionParams");
      const params = parseConnectionParamsFromUnknown(message.data);
      const token = params?.["token"];
      accept(typeof token === "string" && token ? token : null);
    } catch {
      ws.close(closeCodes.unauthorized, "The first frame must carry the connection's sign-in.");
    }
  }

  // Keep-alive: any frame proves the client is there; a quiet one is pinged, then dropped.
  let pongTimer: NodeJS.Timeout | undefined;
  const pingTimer = setTimeout(() => {
    writer.send("PING");
    pongTimer = setTimeout(() => ws.terminate(), limits.pongWaitMs);
  }, limits.pingMs);

  ws.on("message", (data, isBinary) => {
    clearTimeout(pongTimer);
    pingTimer.refresh();
    if (isBinary) return ws.close(1003, "Text frames only.");
    onFrame(String(data));
  });
  ws.on("error", () => {}); // a broken frame closes the socket; `close` cleans up
  ws.once("close", () => {
    clearTimeout(authDeadline);
    clearTimeout(pingTimer);
    clearTimeout(pongTimer);
    for (const stop of subscriptions.values()) stop.abort();
    closed.abort();
    onClosed?.();
  });
}

function withLastEventId(input: unknown, lastEventId: string): unknown {
  if (input === undefined || input === null) return { lastEventId };
  return typeof input === "object" && !Array.isArray(input) ? { ...input, lastEventId } : input;
}
