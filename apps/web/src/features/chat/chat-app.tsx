import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect } from "react";
import { describeError } from "../../describe-error.ts";
import { routeHref, useRoute } from "../../route.ts";
import { useTRPC } from "../../trpc.ts";
import { type ConnectionState, ConnectionStatus } from "../connection/connection-status.tsx";
import { MarketplacePanel } from "../marketplace/marketplace-panel.tsx";
import { ConversationList } from "./conversation-list.tsx";
import { ConversationView } from "./conversation-view.tsx";
import { OutboxProvider } from "./outbox.tsx";

interface Props {
  connection: ConnectionState;
  onSignOut: () => void;
}

export function ChatApp({ connection, onSignOut }: Props) {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const unread = useQuery(trpc.chat.unreadCount.queryOptions());
  const route = useRoute();
  useInbox();

  const total = unread.data?.total ?? 0;
  useEffect(() => {
    document.title = total > 0 ? `(${total}) Naafe Chat` : "Naafe Chat";
  }, [total]);

  if (!me.data) {
    return (
      <main className="loading">
        {me.isError ? (
          <>
            <p className="error" role="alert">
              {describeError(me.error)}
            </p>
            <button type="button" className="button" onClick={() => me.refetch()}>
              Try again
            </button>
          </>
        ) : (
          <p className="muted">Signing in…</p>
        )}
      </main>
    );
  }

  return (
    <OutboxProvider>
      <div className="app" data-view={route.name === "home" ? "list" : "detail"}>
        <header className="app-header">
          <a className="brand" href={routeHref({ name: "home" })}>
            <span className="brand-mark" aria-hidden="true" />
            <span className="brand-name">Naafe Chat</span>
          </a>
          {total > 0 && (
            <span className="badge total-unread" role="status">
              {total} unread
            </span>
          )}
          <ConnectionStatus state={connection} />
          <span className="me" title={me.data.id}>
            {me.data.name ?? me.data.id}
          </span>
          <button type="button" className="button subtle" onClick={onSignOut}>
            Sign out
          </button>
        </header>
        <nav className="sidebar" aria-label="Conversations">
          <a
            className="nav-link"
            href={routeHref({ name: "marketplace" })}
            aria-current={route.name === "marketplace" ? "page" : undefined}
          >
            Marketplace: jobs and offers
          </a>
          <ConversationList me={me.data.id} selectedId={route.name === "conversation" ? route.id : null} />
        </nav>
        <main className="detail">
          {route.name === "conversation" && (
            <ConversationView key={route.id} conversationId={route.id} me={me.data.id} />
          )}
          {route.name === "marketplace" && <MarketplacePanel me={me.data.id} />}
          {route.name === "home" && (
            <div className="empty-state">
              <p>Pick a conversation, or open the marketplace to post a job or make an offer.</p>
            </div>
          )}
        </main>
      </div>
    </OutboxProvider>
  );
}

/** Keeps the conversation list, badges and job list current as the server reports changes. */
function useInbox() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useSubscription(
    trpc.chat.onInbox.subscriptionOptions(undefined, {
      onData(event) {
        if (event.kind === "offer") {
          void queryClient.invalidateQueries({ queryKey: trpc.jobRequest.pathKey() });
          return;
        }
        void queryClient.invalidateQueries({ queryKey: trpc.chat.conversations.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.chat.unreadCount.pathKey() });
        void queryClient.invalidateQueries({
          queryKey: trpc.chat.conversation.queryKey({ conversationId: event.conversationId }),
        });
        if (event.kind === "conversation") void queryClient.invalidateQueries({ queryKey: trpc.jobRequest.pathKey() });
      },
    }),
  );
}
