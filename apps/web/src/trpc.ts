import type { AppRouter } from "@naafe/api";
import { transformer } from "@naafe/api/transformer";
import { createChatClient } from "@naafe/client";
import { createTRPCClient, httpBatchLink, type TRPCClient, TRPCClientError } from "@trpc/client";
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

/** Signed out: plain HTTP, enough for the demo user list and signing in. */
export function createPublicClient(): ApiClient {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: httpUrl, transformer })] });
}

export interface SocketEvents {
  /** `code` is the WebSocket close code, when there is one. */
  onClose: (code: number | undefined) => void;
}

/**
 * Signed in: the chat client (subscriptions over one WebSocket that reconnects and resumes,
 * everything else over batched HTTP), on this page's origin.
 */
export function createSessionClient(token: string, events: SocketEvents) {
  return createChatClient({ url: "", getToken: () => token, onClose: events.onClose });
}

export function isApiError(error: unknown): error is TRPCClientError<AppRouter> {
  return error instanceof TRPCClientError;
}
