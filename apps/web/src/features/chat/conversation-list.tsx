import { useQuery } from "@tanstack/react-query";
import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import { MutedMark } from "../notifications/mute-control.tsx";
import { useMutes } from "../notifications/use-notifications.ts";
import { formatFullTime, formatTime } from "./format-time.ts";
import { MessageText } from "./message-text.tsx";
import { noticeText } from "./notice-text.ts";

interface Props {
  me: string;
  selectedId: string | null;
}

export function ConversationList({ me, selectedId }: Props) {
  const trpc = useTRPC();
  const list = useQuery(trpc.chat.conversations.queryOptions({ limit: 50 }));
  const { t, locale } = useLocale();
  const mutes = useMutes();

  if (list.isPending) return <p className="muted pad">{t("list.loading")}</p>;
  if (list.isError)
    return (
      <p className="error pad" role="alert">
        {describeError(list.error)}
      </p>
    );
  if (list.data.conversations.length === 0) return <p className="muted pad">{t("list.empty")}</p>;

  return (
    <ul className="conversation-list">
      {list.data.conversations.map((conversation) => {
        const { lastMessage, unreadCount, otherParticipant } = conversation;
        return (
          <li key={conversation.id}>
            <a
              href={routeHref({ name: "conversation", id: conversation.id })}
              className="conversation-item"
              aria-current={conversation.id === selectedId ? "page" : undefined}
              data-unread={unreadCount > 0 || undefined}
            >
              <span className="conversation-top">
                <span className="conversation-name" dir="auto">
                  {otherParticipant.name ?? otherParticipant.id}
                </span>
                {mutes.has(conversation.id) && <MutedMark />}
                {lastMessage && (
                  <time
                    dateTime={lastMessage.timestamp.toISOString()}
                    title={formatFullTime(lastMessage.timestamp, locale)}
                  >
                    {formatTime(lastMessage.timestamp, new Date(), locale)}
                  </time>
                )}
              </span>
              <span className="conversation-job" dir="auto">
                {conversation.jobRequest.title}
              </span>
              <span className="conversation-bottom">
                {lastMessage?.senderId === me && <span className="preview-sender">{t("list.you")}</span>}
                {/* In the message's own direction: an Arabic preview in an English list (or the reverse) reads right, and is cut at its end. */}
                <span className="conversation-preview" dir={lastMessage ? "auto" : undefined}>
                  {lastMessage?.deleted ? (
                    t("safety.deleted")
                  ) : lastMessage ? (
                    <MessageText
                      content={lastMessage.type === "system" ? noticeText(lastMessage.content, t) : lastMessage.content}
                    />
                  ) : (
                    t("list.noMessages")
                  )}
                </span>
                {unreadCount > 0 && (
                  <span className="badge">
                    <span aria-hidden="true">{unreadCount.toLocaleString(locale)}</span>
                    <span className="visually-hidden">{t("list.unread", { count: unreadCount })}</span>
                  </span>
                )}
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
