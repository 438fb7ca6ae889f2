import { useQuery } from "@tanstack/react-query";
import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { useTRPC } from "../../trpc.ts";
import { formatFullTime, formatTime } from "./format-time.ts";

interface Props {
  me: string;
  selectedId: string | null;
}

export function ConversationList({ me, selectedId }: Props) {
  const trpc = useTRPC();
  const list = useQuery(trpc.chat.conversations.queryOptions({ limit: 50 }));

  if (list.isPending) return <p className="muted pad">Loading conversations…</p>;
  if (list.isError)
    return (
      <p className="error pad" role="alert">
        {describeError(list.error)}
      </p>
    );
  if (list.data.conversations.length === 0)
    return <p className="muted pad">No conversations yet. One opens when an offer on a job is accepted.</p>;

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
                <span className="conversation-name">{otherParticipant.name ?? otherParticipant.id}</span>
                {lastMessage && (
                  <time dateTime={lastMessage.timestamp.toISOString()} title={formatFullTime(lastMessage.timestamp)}>
                    {formatTime(lastMessage.timestamp)}
                  </time>
                )}
              </span>
              <span className="conversation-job">{conversation.jobRequest.title}</span>
              <span className="conversation-bottom">
                <span className="conversation-preview">
                  {lastMessage
                    ? `${lastMessage.senderId === me ? "You: " : ""}${lastMessage.content}`
                    : "No messages yet"}
                </span>
                {unreadCount > 0 && (
                  <span className="badge">
                    {unreadCount}
                    <span className="visually-hidden"> unread</span>
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
