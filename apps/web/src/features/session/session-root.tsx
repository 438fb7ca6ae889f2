import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { describeError, isRetryable, isUnauthorized } from "../../describe-error.ts";
import { type ApiClient, createSessionClient, TRPCProvider, UNAUTHORIZED_CLOSE } from "../../trpc.ts";
import { ChatApp } from "../chat/chat-app.tsx";
import type { ConnectionState } from "../connection/connection-status.tsx";

interface Props {
  token: string;
  onSignOut: (reason: string | null) => void;
}

/** One signed-in person: their query cache, their socket, and what ends the session. */
export function SessionRoot({ token, onSignOut }: Props) {
  const signOut = useRef(onSignOut);
  signOut.current = onSignOut;

  const [queryClient] = useState(() => {
    // Any call refused for the token ends the session with the server's reason.
    const onError = (error: unknown) => {
      if (isUnauthorized(error)) signOut.current(describeError(error));
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: {
        queries: { retry: (failures, error) => failures < 2 && isRetryable(error), refetchOnWindowFocus: false },
      },
    });
  });
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [client, setClient] = useState<ApiClient | null>(null);

  useEffect(() => {
    // A client being disposed still reports its close; it must not touch the next one's state.
    let disposed = false;
    let everLive = false;
    const session = createSessionClient(token, {
      onClose(code) {
        if (disposed || code !== UNAUTHORIZED_CLOSE) return;
        // Retrying with the same token cannot help: stop, and ask the server why over HTTP.
        disposed = true;
        void session.wsClient.close();
        session.client.auth.me.query().then(
          () => signOut.current("Your session has ended; sign in again."),
          (error: unknown) => signOut.current(describeError(error)),
        );
      },
    });
    // The socket's own state, not open/close callbacks: those also fire for a replacement socket
    // opened beside a live one (a server asking clients to move), which is no outage.
    const state = session.wsClient.connectionState.subscribe({
      next({ state }) {
        if (disposed) return;
        if (state !== "pending") {
          setConnection(everLive ? "reconnecting" : "connecting");
          return;
        }
        if (!everLive) {
          everLive = true;
          setConnection("live");
          return;
        }
        // Subscriptions resume from their last event id by themselves; lists, counters and
        // read receipts are refetched, since their events are not replayed.
        setConnection("catching-up");
        void queryClient.invalidateQueries().finally(() => {
          if (!disposed && session.wsClient.connectionState.get().state === "pending") setConnection("live");
        });
      },
    });
    // The client is a callable proxy: hand it over in a function, or React would call it as an updater.
    setClient(() => session.client);
    return () => {
      disposed = true;
      state.unsubscribe();
      void session.wsClient.close();
    };
  }, [token, queryClient]);

  if (!client) return null;
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <ChatApp connection={connection} onSignOut={() => signOut.current(null)} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
