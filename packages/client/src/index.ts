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
import { tokenExpiry } from "./token.ts";

export type ChatClient = TRPCClient<AppRouter>;

export interface ChatClientOptions {
  /** The server's base URL (`https://chat.example.com`); empty for the page's own origin. */
  url: string;
  /**
   * The user's token (a JWT). Asked for when connecting, for each HTTP request, and again
   * shortly before the token in use expires: return a fresh one then, and the open WebSocket
   * takes it without dropping its subscriptions. Signed out: return an empty string.
   */
  getToken: () => string | Promise<string>;
  /** How long before the token's expiry a fresh one is asked for. Default: 60 s. */
  renewBeforeMs?: number;
  /** The WebSocket closed (`code` 4401: the token was refused or expired, sign in again). */
  onClose?: (code: number | undefined) => void;
  /** A fresh token could not be handed to the open WebSocket. */
  onRenewError?: (error: unknown) => void;
  /** A WebSocket class, where there is no global one (Node 20: the `ws` package). */
  WebSocket?: typeof globalThis.WebSocket;
}

// setTimeout's longest delay; a later renewal is re-armed when it runs out.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A typed client of the chat in one call: subscriptions over one WebSocket that reconnects by
 * itself (jittered backoff) and resumes each subscription from its last event, everything else
 * over batched HTTP, superjson both ways, and the token renewed before it expires.
 */
export function createChatClient(options: ChatClientOptions) {
  const { getToken, renewBeforeMs = 60_000 } = options;
  const base = baseUrl(options.url);
  let tokenInUse = "";
  let renewTimer: ReturnType<typeof setTimeout> | undefined;

  const wsClient = createWSClient({
    url: `${base.replace(/^http/, "ws")}/trpc`,
    connectionParams: async () => {
      tokenInUse = await getToken();
      scheduleRenewal();
      return { token: tokenInUse };
    },
    // Jittered, so the clients of a restarted server do not all knock at the same moment.
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 5_000) * (0.5 + Math.random() / 2),
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    onClose: (cause) => {
      clearTimeout(renewTimer);
      options.onClose?.(cause?.code);
    },
  });

  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        // A renewal must reach the connection it renews; visibility belongs to the connection
        // that carries the subscriptions (what it views).
        condition: (op) =>
          op.type === "subscription" || op.path === "auth.renew" || op.path === "notifications.setVisible",
        true: wsLink({ client: wsClient, transformer }),
        false: httpBatchLink({
          url: `${base}/trpc`,
          transformer,
          headers: async () => {
            const token = await getToken();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });

  function scheduleRenewal() {
    clearTimeout(renewTimer);
    const expiresAt = tokenExpiry(tokenInUse);
    if (expiresAt === null) return;
    const wait = Math.max(0, expiresAt - renewBeforeMs - Date.now());
    renewTimer = setTimeout(wait > MAX_TIMER_MS ? scheduleRenewal : renew, Math.min(wait, MAX_TIMER_MS));
  }

  async function renew() {
    try {
      const fresh = await getToken();
      // The same token again: nothing to renew; the server closes the connection at its expiry.
      if (!fresh || fresh === tokenInUse) return;
      await client.auth.renew.mutate({ token: fresh });
      tokenInUse = fresh;
      scheduleRenewal();
    } catch (error) {
      options.onRenewError?.(error);
    }
  }

  return {
    client,
    /** The WebSocket's state (`idle`, `connecting`, `pending` = open), for an online indicator. */
    connectionState: wsClient.connectionState,
    /** Closes the WebSocket for good (signing out). */
    close() {
      clearTimeout(renewTimer);
      wsClient.close();
    },
  };
}

export function isChatError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}

function baseUrl(url: string) {
  const trimmed = url.replace(/\/+$/, "");
  if (trimmed) return trimmed;
  const origin = (globalThis as { location?: { origin: string } }).location?.origin;
  if (!origin) throw new Error("createChatClient needs a url outside a browser page.");
  return origin;
}
