import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { PersistQueryClientProvider } from "@tanstack/react-query-persist-client";
import { useEffect, useRef, useState } from "react";
import { describeError, isRetryable, isUnauthorized } from "../../describe-error.ts";
import { type ApiClient, createSessionClient, TRPCProvider, UNAUTHORIZED_CLOSE } from "../../trpc.ts";
import { ChatApp } from "../chat/chat-app.tsx";
import { type ConnectionState, useOnline } from "../connection/connection-status.tsx";
import { SessionToken } from "../export/session-token.ts";
import { i18n } from "../i18n/i18n.ts";
import { persistOptions } from "../offline/query-cache.ts";

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
        queries: {
          retry: (failures, error) => failures < 2 && isRetryable(error),
          refetchOnWindowFocus: false,
          // Kept as long as the offline copy (query-cache.ts), so it still holds what was last seen.
          gcTime: 7 * 24 * 60 * 60 * 1000,
        },
      },
    });
  });
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [client, setClient] = useState<ApiClient | null>(null);
  const [persist] = useState(() => persistOptions(token));
  const online = useOnline();

  useEffect(() => {
    // A client being disposed still reports its close; it must not touch the next one's state.
    let disposed = false;
    let everLive = false;
    const session = createSessionClient(token, {
      onClose(code) {
        if (disposed || code !== UNAUTHORIZED_CLOSE) return;
        // Retrying with the same token cannot help: stop, and ask the server why over HTTP.
        disposed = true;
        session.close();
        session.client.auth.me.query().then(
          () => signOut.current(i18n.t("app.sessionEnded")),
          (error: unknown) => signOut.current(describeError(error)),
        );
      },
    });
    // A hidden page does not count as viewing its open conversation: their messages are pushed.
    const reportVisibility = () => {
      const visible = document.visibilityState === "visible";
      session.client.notifications.setVisible.mutate({ visible }).catch(() => {});
    };
    document.addEventListener("visibilitychange", reportVisibility);
    // The socket's own state, not open/close callbacks: those also fire for a replacement socket
    // opened beside a live one (a server asking clients to move), which is no outage.
    const state = session.connectionState.subscribe({
      next({ state }) {
        if (disposed) return;
        if (state !== "pending") {
          setConnection(everLive ? "reconnecting" : "connecting");
          return;
        }
        // A new connection starts out visible.
        if (document.visibilityState === "hidden") reportVisibility();
        if (!everLive) {
          everLive = true;
          setConnection("live");
          return;
        }
        // Subscriptions resume from their last event id by themselves; lists, counters and
        // read receipts are refetched, since their events are not replayed.
        setConnection("catching-up");
        void queryClient.invalidateQueries().finally(() => {
          if (!disposed && session.connectionState.get().state === "pending") setConnection("live");
        });
      },
    });
    // The client is a callable proxy: hand it over in a function, or React would call it as an updater.
    setClient(() => session.client);
    return () => {
      disposed = true;
      document.removeEventListener("visibilitychange", reportVisibility);
      state.unsubscribe();
      session.close();
    };
  }, [token, queryClient]);

  if (!client) return null;
  return (
    <PersistQueryClientProvider client={queryClient} persistOptions={persist}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <SessionToken.Provider value={token}>
          <ChatApp
            connection={online ? connection : "offline"}
            onSignOut={() => {
              // Signing out is leaving this device: what was kept of the session for offline goes too.
              queryClient.clear();
              void persist.persister.removeClient();
              signOut.current(null);
            }}
          />
        </SessionToken.Provider>
      </TRPCProvider>
    </PersistQueryClientProvider>
  );
}
