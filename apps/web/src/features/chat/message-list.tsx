import { useEffect, useLayoutEffect, useRef } from "react";
import { describeError } from "../../describe-error.ts";
import { MessageAttachments } from "../attachments/message-attachments.tsx";
import { useLocale } from "../i18n/i18n.ts";
import { EditedLabel, MaskedNotice, MessageBubble } from "../moderation/message-tools.tsx";
import { formatFullTime, formatTime } from "./format-time.ts";
import type { ChatMessage, MessageStatus } from "./message-pages.ts";
import { MessageText } from "./message-text.tsx";
import type { PendingMessage } from "./outbox.tsx";

interface Props {
  me: string;
  messages: ChatMessage[];
  pending: readonly PendingMessage[];
  onRetry: (message: PendingMessage) => void;
  onDiscard: (message: PendingMessage) => void;
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** A message to bring into view and highlight (a search hit); older pages load until it is found. */
  focusId?: string | undefined;
}

/** Within this many pixels of the bottom counts as "at the bottom": new messages keep it there. */
const STICK_DISTANCE = 80;

export function MessageList(props: Props) {
  const { me, messages, pending, onRetry, onDiscard, loading, error, hasOlder, loadingOlder, onLoadOlder, focusId } =
    props;
  const { t } = useLocale();
  const scroller = useRef<HTMLDivElement>(null);
  const olderTrigger = useRef<HTMLButtonElement>(null);
  const atBottom = useRef(true);
  // Distance from the bottom before older messages were added above, to keep the view still.
  const anchor = useRef<number | null>(null);
  // Whether a search hit keeps the view on it: until the person scrolls, or another hit is opened.
  const holdingFocus = useRef(false);
  const heldFocus = useRef<string | undefined>(undefined);
  if (heldFocus.current !== focusId) {
    heldFocus.current = focusId;
    holdingFocus.current = !!focusId;
  }
  // The person's own scrolling (wheel, touch, keys), not ours, lets go of the hit.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const release = () => {
      holdingFocus.current = false;
    };
    const events = ["wheel", "touchstart", "keydown"] as const;
    for (const name of events) el.addEventListener(name, release, { passive: true });
    return () => {
      for (const name of events) el.removeEventListener(name, release);
    };
  }, []);

  function loadOlder() {
    const el = scroller.current;
    if (el) anchor.current = el.scrollHeight - el.scrollTop;
    onLoadOlder();
  }

  const lastPending = pending.at(-1)?.clientMessageId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs whenever the content changes.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    // A search hit stays in the middle while pages load around it, until the person scrolls.
    const hit = holdingFocus.current && focusId ? document.getElementById(messageElementId(focusId)) : null;
    if (hit) {
      if (!loadingOlder) anchor.current = null;
      hit.scrollIntoView({ block: "center" });
    } else if (anchor.current !== null && !loadingOlder) {
      el.scrollTop = el.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages, pending.length, loadingOlder]);

  // Sending is a wish to see one's message: jump back to the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && lastPending) {
      atBottom.current = true;
      el.scrollTop = el.scrollHeight;
    }
  }, [lastPending]);

  // Scrolling to the top loads the previous page (the button does the same from the keyboard).
  const canLoadOlder = hasOlder && !loadingOlder;
  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;
  useEffect(() => {
    const trigger = olderTrigger.current;
    if (!trigger || !canLoadOlder) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadOlderRef.current();
      },
      { root: scroller.current, rootMargin: "200px 0px 0px 0px" },
    );
    observer.observe(trigger);
    return () => observer.disconnect();
  }, [canLoadOlder]);

  // A search hit: page back until it is here, then show it in the middle.
  useEffect(() => {
    if (!focusId || loading) return;
    if (messages.some((message) => message.id === focusId)) {
      atBottom.current = false;
      if (holdingFocus.current) document.getElementById(messageElementId(focusId))?.scrollIntoView({ block: "center" });
    } else if (hasOlder && !loadingOlder && holdingFocus.current) {
      loadOlderRef.current();
    }
  }, [focusId, messages, loading, hasOlder, loadingOlder]);

  function onScroll() {
    const el = scroller.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_DISTANCE;
  }

  return (
    // Focusable, so a keyboard can scroll the history even when no message in view has a button.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable).
    <div className="messages" ref={scroller} onScroll={onScroll} tabIndex={0}>
      {hasOlder && (
        <button ref={olderTrigger} type="button" className="button subtle load-older" onClick={loadOlder}>
          {loadingOlder ? t("messages.loadingOlder") : t("messages.loadOlder")}
        </button>
      )}
      {!hasOlder && !loading && !error && messages.length > 0 && (
        <p className="muted small history-start">{t("messages.start")}</p>
      )}
      {loading && <p className="muted pad">{t("messages.loading")}</p>}
      {error && (
        <p className="error pad" role="alert">
          {error}
        </p>
      )}
      {!loading && !error && messages.length === 0 && pending.length === 0 && (
        <p className="muted pad">{t("messages.empty")}</p>
      )}
      {/* The live region around the list, not on it: a role on the <ol> would hide its items' list semantics. */}
      <div className="message-log" role="log" aria-live="polite" aria-label={t("messages.label")}>
        <ol className="message-items">
          {messages.map((message) => (
            <MessageItem
              key={message.id}
              message={message}
              mine={message.senderId === me}
              focused={message.id === focusId}
            />
          ))}
          {pending.map((item) => (
            <PendingItem key={item.clientMessageId} item={item} onRetry={onRetry} onDiscard={onDiscard} />
          ))}
        </ol>
      </div>
    </div>
  );
}

const messageElementId = (messageId: string) => `message-${messageId}`;

function MessageItem({ message, mine, focused }: { message: ChatMessage; mine: boolean; focused: boolean }) {
  const { locale } = useLocale();
  return (
    <li
      id={messageElementId(message.id)}
      className="message"
      data-mine={mine || undefined}
      data-focused={focused || undefined}
    >
      {(message.content !== "" || !message.attachments?.length || message.deleted) && (
        <MessageBubble message={message} mine={mine} />
      )}
      {message.attachments?.length && !message.deleted ? (
        <MessageAttachments attachments={message.attachments} />
      ) : null}
      <span className="message-meta">
        <time dateTime={message.timestamp.toISOString()} title={formatFullTime(message.timestamp, locale)}>
          {formatTime(message.timestamp, new Date(), locale)}
        </time>
        <EditedLabel message={message} />
        {mine && <Receipt message={message} />}
      </span>
      <MaskedNotice message={message} mine={mine} />
    </li>
  );
}

/** Where one of my messages has got to: stored on the server, on the other person's device, read. */
function Receipt({ message }: { message: ChatMessage }) {
  const { t, locale } = useLocale();
  const { status, deliveredAt, readAt } = message;
  const at = status === "read" ? readAt : status === "delivered" ? deliveredAt : null;
  const title = at
    ? t(status === "read" ? "messages.readAt" : "messages.deliveredAt", { time: formatFullTime(at, locale) })
    : undefined;
  return (
    <span className="receipt" data-status={status} title={title}>
      {t(`messages.${status satisfies MessageStatus}`)}
    </span>
  );
}

interface PendingProps {
  item: PendingMessage;
  onRetry: (item: PendingMessage) => void;
  onDiscard: (item: PendingMessage) => void;
}

function PendingItem({ item, onRetry, onDiscard }: PendingProps) {
  const { t } = useLocale();
  return (
    <li className="message" data-mine data-status={item.status}>
      <p className="bubble" dir="auto">
        <MessageText content={item.content} />
      </p>
      <span className="message-meta">
        {item.status !== "failed" ? (
          <span className="receipt" data-status={item.status}>
            {t(item.status === "sending" ? "messages.sending" : "messages.queued")}
          </span>
        ) : (
          <>
            <span className="receipt" data-status="failed" role="alert">
              {t("messages.notSent", { reason: describeError(item.error) })}
            </span>
            <button type="button" className="link-button" onClick={() => onRetry(item)}>
              {t("messages.retry")}
            </button>
            <button type="button" className="link-button" onClick={() => onDiscard(item)}>
              {t("messages.discard")}
            </button>
          </>
        )}
      </span>
    </li>
  );
}
