import type { AppRouter } from "@naafe/api";
import { transformer } from "@naafe/api/transformer";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  wsLink,
} from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** What a subscription yields, from its `RouterOutputs` entry: `EventOf<RouterOutputs["chat"]["onTyping"]>`. */
export type EventOf<Output> = Output extends AsyncIterable<infer Event> ? Event : never;
export type ApiClient = TRPCClient<AppRouter>;

/** The server closes a WebSocket with this code when its token is missing, invalid or expired. */
export const UNAUTHORIZED_CLOSE = 4401;

const httpUrl = "/trpc";

function wsUrl() {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/trpc`;
}

/** Signed out: plain HTTP, enough for the demo user list and signing in. */
export function createPublicClient(): ApiClient {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: httpUrl, transformer })] });
}

export interface SocketEvents {
  /** `code` is the WebSocket close code, when there is one. */
  onClose: (code: number | undefined) => void;
}

/**
 * Signed in: subscriptions over one WebSocket, everything else over batched HTTP, both with the
 * same bearer token. The WebSocket reconnects by itself and resubscribes with each
 * subscription's last event id, so the server replays what was missed.
 */
export function createSessionClient(token: string, events: SocketEvents) {
  const wsClient = createWSClient({
    url: wsUrl,
    connectionParams: () => ({ token }),
    // Quicker than the default backoff, so a restarted server is picked up within seconds, and
    // jittered, so the clients of a restarted server do not all knock at the same moment.
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000) * (0.5 + Math.random() / 2),
    onClose: (cause) => events.onClose(cause?.code),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: wsClient, transformer }),
        false: httpBatchLink({
          url: httpUrl,
          transformer,
          headers: () => ({ authorization: `Bearer ${token}` }),
        }),
      }),
    ],
  });
  return { client, wsClient };
}

export function isApiError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}
