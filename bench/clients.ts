/**
 * One simulated user = one WebSocket. Both clients speak their server's JSON frames directly
 * (tRPC's protocol, the baseline's own), with the same work per message. The load generator
 * sees only this interface, so both servers get exactly the same load.
 */
import WebSocket from "ws";
import type { TargetKind } from "./protocol.ts";

export interface ReceivedEvent {
  messageId: string;
  seq: number;
  senderId: string;
  clientMessageId: string | null;
}

export interface SubscribeHandlers {
  onStarted: () => void;
  onEvent: (event: ReceivedEvent) => void;
  onError: (error: unknown) => void;
}

export interface ChatClient {
  subscribe(conversationId: string, lastEventId: string | undefined, handlers: SubscribeHandlers): void;
  send(conversationId: string, content: string, clientMessageId: string): Promise<void>;
  close(): void;
}

export interface ClientOptions {
  url: string;
  token: string;
  /** The connection dropped (not closed by us). */
  onDrop: (reason: string) => void;
}

export function createClient(kind: TargetKind, options: ClientOptions): ChatClient {
  return kind === "naafe" ? trpcClient(options) : baselineClient(options);
}

/**
 * tRPC's WebSocket protocol spoken directly (the frames `wsLink` sends and reads, inputs in
 * superjson's `{json}` form), as lean as the baseline's client: a load generator that spends
 * less per message than the servers it drives, so the ceiling measured is theirs.
 */
function trpcClient({ url, token, onDrop }: ClientOptions): ChatClient {
  let closing = false;
  const socket = new WebSocket(`${url}?connectionParams=1`, { perMessageDeflate: false });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => {
      socket.send(JSON.stringify({ method: "connectionParams", data: { token } }));
      resolve();
    });
    socket.once("error", reject);
  });
  opened.catch(() => {});
  const calls = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const subscriptions = new Map<number, SubscribeHandlers>();
  let nextId = 1;
  socket.on("message", (raw) => {
    const text = String(raw);
    if (text === "PING") return socket.send("PONG");
    const frame = JSON.parse(text);
    const handlers = subscriptions.get(frame.id);
    if (frame.error) {
      // Error shapes go through the transformer like data: `{json: {message, code, data}}`.
      const error = new Error(frame.error.json?.message ?? "error");
      const pending = calls.get(frame.id);
      calls.delete(frame.id);
      if (pending) pending.reject(error);
      else handlers?.onError(error);
    } else if (handlers) {
      // A tracked event: `{id, data}`, through the transformer (`{json: …}`).
      if (frame.result?.type === "data") handlers.onEvent(frame.result.data.json.data);
      else if (frame.result?.type === "started") handlers.onStarted();
    } else if (frame.result) {
      calls.get(frame.id)?.resolve();
      calls.delete(frame.id);
    }
  });
  socket.on("close", (code) => {
    if (!closing) onDrop(`closed ${code}`);
    for (const pending of calls.values()) pending.reject(new Error("connection closed"));
    calls.clear();
  });
  socket.on("error", () => {});
  return {
    subscribe(conversationId, lastEventId, handlers) {
      const id = nextId++;
      subscriptions.set(id, handlers);
      const input = { json: { conversationId, echo: false, ...(lastEventId ? { lastEventId } : {}) } };
      opened.then(
        () => socket.send(JSON.stringify({ id, method: "subscription", params: { path: "chat.onMessage", input } })),
        (error: unknown) => handlers.onError(error),
      );
    },
    async send(conversationId, content, clientMessageId) {
      await opened;
      const id = nextId++;
      const input = { json: { conversationId, content, clientMessageId } };
      await new Promise<void>((resolve, reject) => {
        calls.set(id, { resolve, reject });
        socket.send(JSON.stringify({ id, method: "mutation", params: { path: "chat.sendMessage", input } }));
      });
    },
    close() {
      closing = true;
      socket.close();
    },
  };
}

function baselineClient({ url, token, onDrop }: ClientOptions): ChatClient {
  let closing = false;
  const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  opened.catch(() => {});
  const acks = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const subscribers = new Map<string, SubscribeHandlers>();
  let nextId = 0;
  socket.on("message", (raw) => {
    const frame = JSON.parse(String(raw));
    if (frame.t === "msg") subscribers.get(frame.conversationId)?.onEvent(frame);
    else if (frame.t === "ack") {
      acks.get(frame.id)?.resolve();
      acks.delete(frame.id);
    } else if (frame.t === "subok") subscribers.get(frame.c)?.onStarted();
    else if (frame.t === "err") {
      const pending = acks.get(frame.id);
      if (pending) {
        pending.reject(new Error(frame.message));
        acks.delete(frame.id);
      } else for (const handlers of subscribers.values()) handlers.onError(new Error(frame.message));
    }
  });
  socket.on("close", (code) => {
    if (!closing) onDrop(`closed ${code}`);
    for (const pending of acks.values()) pending.reject(new Error("connection closed"));
    acks.clear();
  });
  socket.on("error", () => {});
  return {
    subscribe(conversationId, lastEventId, handlers) {
      subscribers.set(conversationId, handlers);
      opened.then(
        () => socket.send(JSON.stringify({ t: "sub", c: conversationId, after: lastEventId, echo: false })),
        (error: unknown) => handlers.onError(error),
      );
    },
    async send(conversationId, content, clientMessageId) {
      await opened;
      const id = nextId++;
      await new Promise<void>((resolve, reject) => {
        acks.set(id, { resolve, reject });
        socket.send(JSON.stringify({ t: "send", id, c: conversationId, content, cm: clientMessageId }));
      });
    },
    close() {
      closing = true;
      socket.close();
    },
  };
}
