import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { describeError, isUnauthorized } from "../../describe-error.ts";
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
        queries: { retry: (failures, error) => !isUnauthorized(error) && failures < 2, refetchOnWindowFocus: false },
      },
    });
  });
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [client, setClient] = useState<ApiClient | null>(null);

  useEffect(() => {
    let everOpened = false;
    let open = false;
    // A client being disposed still reports its close; it must not overwrite the new one's state.
    let disposed = false;
    const session = createSessionClient(token, {
      onOpen() {
        if (disposed) return;
        open = true;
        if (!everOpened) {
          everOpened = true;
          setConnection("live");
          return;
        }
        // Subscriptions resume from their last event id by themselves; lists, counters and
        // read receipts are refetched, since their events are not replayed.
        setConnection("catching-up");
        void queryClient.invalidateQueries().finally(() => {
          if (open) setConnection("live");
        });
      },
      onClose(code) {
        if (disposed) return;
        open = false;
        if (code === UNAUTHORIZED_CLOSE) {
          // Retrying with the same token cannot help: stop, and ask the server why over HTTP.
          void session.wsClient.close();
          session.client.auth.me.query().then(
            () => signOut.current("Your session has ended; sign in again."),
            (error: unknown) => signOut.current(describeError(error)),
          );
          return;
        }
        setConnection(everOpened ? "reconnecting" : "connecting");
      },
    });
    // The client is a callable proxy: hand it over in a function, or React would call it as an updater.
    setClient(() => session.client);
    return () => {
      disposed = true;
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
