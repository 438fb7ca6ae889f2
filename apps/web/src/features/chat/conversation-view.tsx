import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { Composer } from "./composer.tsx";
import { MessageList } from "./message-list.tsx";
import { useConversation } from "./use-conversation.ts";

interface Props {
  conversationId: string;
  me: string;
}

export function ConversationView({ conversationId, me }: Props) {
  const { conversation, history, messages, pending, send, retry, liveError } = useConversation(conversationId, me);

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
  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header">
        <BackLink />
        <div>
          <h2 id="conversation-title">{other ? (other.name ?? other.id) : "Conversation"}</h2>
          {details && (
            <p className="muted small">
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
      {details?.isActive === false ? (
        <p className="muted pad closed-note">This conversation is closed; it can be read but not written to.</p>
      ) : (
        <Composer onSend={send} disabled={!details} />
      )}
    </section>
  );
}

function BackLink() {
  return (
    <a className="back-link" href={routeHref({ name: "home" })} aria-label="Back to conversations">
      ←
    </a>
  );
}
