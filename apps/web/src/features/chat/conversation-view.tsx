import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { Composer } from "./composer.tsx";
import { formatFullTime } from "./format-time.ts";
import { MessageList } from "./message-list.tsx";
import { describePresence, type Presence, useNow, usePresence } from "./presence.ts";
import { useTypingReporter, useTypingUsers } from "./typing.ts";
import { useConversation } from "./use-conversation.ts";

interface Props {
  conversationId: string;
  me: string;
}

export function ConversationView({ conversationId, me }: Props) {
  const { conversation, history, messages, pending, send, retry, liveError } = useConversation(conversationId, me);
  const presence = usePresence(conversationId);
  const typingUsers = useTypingUsers(conversationId);
  const reportTyping = useTypingReporter(conversationId);

  if (conversation.isError) {
    return (
      <section className="conversation">
        <BackLink />
        <p className="error pad" role="alert">
          {describeError(conversation.error)}
        </p>
      </section>
    );
  }

  const details = conversation.data;
  const other = details?.otherParticipant;
  const otherName = other ? (other.name ?? other.id) : "Conversation";
  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header">
        <BackLink />
        <div>
          <h2 id="conversation-title">{otherName}</h2>
          {details && (
            <p className="muted small">
              {presence && (
                <>
                  <PresenceLabel presence={presence} />
                  {" · "}
                </>
              )}
              {details.jobRequest.title}
              {!details.isActive && " · closed"}
            </p>
          )}
        </div>
      </header>
      {liveError && (
        <p className="error pad" role="alert">
          Live updates stopped: {liveError}
        </p>
      )}
      <MessageList
        me={me}
        messages={messages}
        pending={pending}
        onRetry={retry}
        loading={history.isPending}
        error={history.isError ? describeError(history.error) : null}
        hasOlder={history.hasNextPage}
        loadingOlder={history.isFetchingNextPage}
        onLoadOlder={() => void history.fetchNextPage()}
      />
      <TypingIndicator name={other && typingUsers.has(other.id) ? otherName : null} />
      {details?.isActive === false ? (
        <p className="muted pad closed-note">This conversation is closed; it can be read but not written to.</p>
      ) : (
        <Composer onSend={send} onTypingChange={reportTyping} disabled={!details} />
      )}
    </section>
  );
}

export function PresenceLabel({ presence }: { presence: Presence }) {
  // Relative times go stale: renew "last seen 5 minutes ago" while it is shown.
  const now = useNow(30_000, !presence.online);
  return (
    <span
      className="presence"
      data-online={presence.online || undefined}
      title={presence.lastSeen ? formatFullTime(presence.lastSeen) : undefined}
    >
      {describePresence(presence, now)}
    </span>
  );
}

/** Always in the page, so screen readers announce the text when it appears (a polite live region). */
export function TypingIndicator({ name }: { name: string | null }) {
  return (
    <p className="typing-indicator" aria-live="polite">
      {name && `${name} is typing…`}
    </p>
  );
}

function BackLink() {
  return (
    <a className="back-link" href={routeHref({ name: "home" })} aria-label="Back to conversations">
      ←
    </a>
  );
}
