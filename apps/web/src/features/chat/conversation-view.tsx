import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { AttachButton, AttachmentTray, useComposerAttachments } from "../attachments/composer-attachments.tsx";
import { ExportMenu } from "../export/export-menu.tsx";
import { useLocale } from "../i18n/i18n.ts";
import { WithName } from "../i18n/with-name.tsx";
import { useMessageChanges } from "../moderation/message-changes.ts";
import { SafetyActions } from "../moderation/safety-actions.tsx";
import { MuteControl } from "../notifications/mute-control.tsx";
import { NotificationPrompt } from "../notifications/notification-prompt.tsx";
import { noteMessageSent } from "../notifications/prompt-session.ts";
import { SearchBox } from "../search/search-box.tsx";
import { Composer } from "./composer.tsx";
import { formatFullTime } from "./format-time.ts";
import { MessageList } from "./message-list.tsx";
import { describePresence, type Presence, useNow, usePresence } from "./presence.ts";
import { useTypingReporter, useTypingUsers } from "./typing.ts";
import { useConversation } from "./use-conversation.ts";

interface Props {
  conversationId: string;
  me: string;
  /** A message to scroll to and highlight (a search hit). */
  focusMessageId?: string | undefined;
}

export function ConversationView({ conversationId, me, focusMessageId }: Props) {
  const { conversation, history, messages, pending, send, retry, discard, addSent, liveError } = useConversation(
    conversationId,
    me,
  );
  const attachments = useComposerAttachments(conversationId, addSent);
  const presence = usePresence(conversationId);
  const typingUsers = useTypingUsers(conversationId);
  const reportTyping = useTypingReporter(conversationId);
  useMessageChanges(conversationId);
  const { t } = useLocale();

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
  const otherName = other ? (other.name ?? other.id) : t("conversation.fallbackTitle");
  return (
    <section
      className="conversation"
      aria-labelledby="conversation-title"
      data-dragging={attachments.dragging || undefined}
      {...(details?.isActive ? attachments.dropZone : {})}
    >
      <header className="conversation-header">
        <BackLink />
        <div>
          <h2 id="conversation-title" dir="auto">
            {otherName}
          </h2>
          {details && (
            <p className="muted small">
              {presence && (
                <>
                  <PresenceLabel presence={presence} />
                  {" · "}
                </>
              )}
              <bdi dir="auto">{details.jobRequest.title}</bdi>
              {!details.isActive && ` · ${t("conversation.closed")}`}
            </p>
          )}
        </div>
        <SearchBox conversationId={conversationId} />
        {details && <MuteControl conversationId={conversationId} />}
        {details && <ExportMenu conversationId={conversationId} />}
      </header>
      {details && <SafetyActions conversation={details} />}
      {liveError && (
        <p className="error pad" role="alert">
          {t("conversation.liveStopped", { reason: liveError })}
        </p>
      )}
      <MessageList
        me={me}
        messages={messages}
        pending={pending}
        onRetry={retry}
        onDiscard={discard}
        loading={history.isPending}
        error={history.isError ? describeError(history.error) : null}
        hasOlder={history.hasNextPage}
        loadingOlder={history.isFetchingNextPage}
        onLoadOlder={() => void history.fetchNextPage()}
        focusId={focusMessageId}
      />
      <TypingIndicator name={other && typingUsers.has(other.id) ? otherName : null} />
      {details?.isActive === false ? (
        <p className="muted pad closed-note">{t("conversation.closedNote")}</p>
      ) : (
        <>
          <NotificationPrompt />
          <Composer
            onSend={(content) => {
              noteMessageSent();
              return attachments.ready ? attachments.send(content) : send(content);
            }}
            onTypingChange={reportTyping}
            disabled={!details}
            allowEmpty={attachments.ready}
            sendBlocked={attachments.blocked}
            onPasteFiles={attachments.addFiles}
            above={<AttachmentTray attachments={attachments} />}
            tools={<AttachButton attachments={attachments} disabled={!details} />}
          />
        </>
      )}
    </section>
  );
}

export function PresenceLabel({ presence }: { presence: Presence }) {
  // Relative times go stale: renew "last seen 5 minutes ago" while it is shown.
  const now = useNow(30_000, !presence.online);
  const { locale } = useLocale();
  return (
    <span
      className="presence"
      data-online={presence.online || undefined}
      title={presence.lastSeen ? formatFullTime(presence.lastSeen, locale) : undefined}
    >
      {describePresence(presence, now, locale)}
    </span>
  );
}

/** Always in the page, so screen readers announce the text when it appears (a polite live region). */
export function TypingIndicator({ name }: { name: string | null }) {
  return (
    <p className="typing-indicator" aria-live="polite">
      {name && <WithName i18nKey="conversation.typing" name={name} />}
    </p>
  );
}

/** A "back" arrow points to where one came from: the start side, which is the right in Arabic. */
export function BackLink() {
  const { t } = useLocale();
  return (
    <a className="back-link" href={routeHref({ name: "home" })}>
      <span className="direction-icon" aria-hidden="true">
        ←
      </span>
      <span className="visually-hidden">{t("conversation.back")}</span>
    </a>
  );
}
