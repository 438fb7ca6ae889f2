/**
 * One simulated user = one WebSocket. The tRPC client is the one the web app uses (wsLink,
 * `@naafe/api/transformer`); the baseline client speaks the baseline's bare JSON frames. The
 * load generator sees only this interface, so both servers get exactly the same load.
 */
import type { AppRouter } from "@naafe/api";
import { transformer } from "@naafe/api/transformer";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
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

function trpcClient({ url, token, onDrop }: ClientOptions): ChatClient {
  let closing = false;
  const ws = createWSClient({
    url,
    connectionParams: { token },
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    // A drop is an error in a benchmark; reconnecting quietly would hide it.
    retryDelayMs: () => 60_000,
    onClose: (cause) => {
      if (!closing) onDrop(`closed ${cause?.code ?? ""}`);
    },
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer })] });
  const subscriptions: { unsubscribe(): void }[] = [];
  return {
    subscribe(conversationId, lastEventId, { onStarted, onEvent, onError }) {
      subscriptions.push(
        trpc.chat.onMessage.subscribe(
          { conversationId, lastEventId, echo: false },
          { onStarted, onData: (tracked) => onEvent(tracked.data), onError },
        ),
      );
    },
    async send(conversationId, content, clientMessageId) {
      await trpc.chat.sendMessage.mutate({ conversationId, content, clientMessageId });
    },
    close() {
      closing = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      ws.close();
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
