import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect } from "react";
import { describeError } from "../../describe-error.ts";
import { routeHref, useRoute } from "../../route.ts";
import { useTRPC } from "../../trpc.ts";
import { type ConnectionState, ConnectionStatus } from "../connection/connection-status.tsx";
import { useLocale } from "../i18n/i18n.ts";
import { MarketplacePanel } from "../marketplace/marketplace-panel.tsx";
import { ModerationPanel } from "../moderation/moderation-panel.tsx";
import { SearchBox } from "../search/search-box.tsx";
import { SettingsPanel } from "../settings/settings-panel.tsx";
import { ConversationList } from "./conversation-list.tsx";
import { ConversationView } from "./conversation-view.tsx";
import { OutboxNotice, OutboxProvider } from "./outbox.tsx";

interface Props {
  connection: ConnectionState;
  onSignOut: () => void;
}

export function ChatApp({ connection, onSignOut }: Props) {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const unread = useQuery(trpc.chat.unreadCount.queryOptions());
  const route = useRoute();
  const { t } = useLocale();
  useInbox();

  const total = unread.data?.total ?? 0;
  useEffect(() => {
    document.title = total > 0 ? t("app.titleWithUnread", { count: total }) : t("app.name");
  }, [total, t]);

  if (!me.data) {
    return (
      <main className="loading">
        {me.isError ? (
          <>
            <p className="error" role="alert">
              {describeError(me.error)}
            </p>
            <button type="button" className="button" onClick={() => me.refetch()}>
              {t("app.tryAgain")}
            </button>
          </>
        ) : (
          <p className="muted">{t("app.signingIn")}</p>
        )}
      </main>
    );
  }

  return (
    <OutboxProvider userId={me.data.id} live={connection === "live"}>
      <div className="app" data-view={route.name === "home" ? "list" : "detail"}>
        <header className="app-header">
          <a className="brand" href={routeHref({ name: "home" })}>
            <span className="brand-mark" aria-hidden="true" />
            <span className="brand-name">{t("app.name")}</span>
          </a>
          {total > 0 && (
            <span className="badge total-unread" role="status">
              {t("app.totalUnread", { count: total })}
            </span>
          )}
          <ConnectionStatus state={connection} />
          <span className="me" title={me.data.id} dir="auto">
            {me.data.name ?? me.data.id}
          </span>
          {me.data.role === "moderator" && (
            <a
              className="button subtle"
              href={routeHref({ name: "moderation" })}
              aria-current={route.name === "moderation" ? "page" : undefined}
            >
              {t("moderation.link")}
            </a>
          )}
          <a
            className="button subtle"
            href={routeHref({ name: "settings" })}
            aria-current={route.name === "settings" ? "page" : undefined}
          >
            {t("app.settings")}
          </a>
          <button type="button" className="button subtle" onClick={onSignOut}>
            {t("app.signOut")}
          </button>
        </header>
        <nav className="sidebar" aria-label={t("app.conversations")}>
          <SearchBox />
          <a
            className="nav-link"
            href={routeHref({ name: "marketplace" })}
            aria-current={route.name === "marketplace" ? "page" : undefined}
          >
            {t("app.marketplaceLink")}
          </a>
          <ConversationList me={me.data.id} selectedId={route.name === "conversation" ? route.id : null} />
        </nav>
        <main className="detail">
          <OutboxNotice />
          {route.name === "conversation" && (
            <ConversationView
              key={route.id}
              conversationId={route.id}
              me={me.data.id}
              focusMessageId={route.messageId}
            />
          )}
          {route.name === "marketplace" && <MarketplacePanel me={me.data.id} />}
          {route.name === "settings" && <SettingsPanel />}
          {route.name === "moderation" && me.data.role === "moderator" && (
            <ModerationPanel conversationId={route.conversationId} />
          )}
          {route.name === "home" && (
            <div className="empty-state">
              <p>{t("app.pickConversation")}</p>
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
