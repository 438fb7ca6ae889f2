import { useEffect, useLayoutEffect, useRef } from "react";
import { formatFullTime, formatTime } from "./format-time.ts";
import type { ChatMessage, MessageStatus } from "./message-pages.ts";
import type { PendingMessage } from "./outbox.tsx";

interface Props {
  me: string;
  messages: ChatMessage[];
  pending: readonly PendingMessage[];
  onRetry: (message: PendingMessage) => void;
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
}

/** Within this many pixels of the bottom counts as "at the bottom": new messages keep it there. */
const STICK_DISTANCE = 80;

export function MessageList(props: Props) {
  const { me, messages, pending, onRetry, loading, error, hasOlder, loadingOlder, onLoadOlder } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const olderTrigger = useRef<HTMLButtonElement>(null);
  const atBottom = useRef(true);
  // Distance from the bottom before older messages were added above, to keep the view still.
  const anchor = useRef<number | null>(null);

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
    if (anchor.current !== null && !loadingOlder) {
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

  function onScroll() {
    const el = scroller.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_DISTANCE;
  }

  return (
    <div className="messages" ref={scroller} onScroll={onScroll}>
      {hasOlder && (
        <button ref={olderTrigger} type="button" className="button subtle load-older" onClick={loadOlder}>
          {loadingOlder ? "Loading earlier messages…" : "Load earlier messages"}
        </button>
      )}
      {!hasOlder && !loading && !error && messages.length > 0 && (
        <p className="muted small history-start">Start of the conversation</p>
      )}
      {loading && <p className="muted pad">Loading messages…</p>}
      {error && (
        <p className="error pad" role="alert">
          {error}
        </p>
      )}
      {!loading && !error && messages.length === 0 && pending.length === 0 && (
        <p className="muted pad">No messages yet. Say hello!</p>
      )}
      <ol className="message-items" role="log" aria-live="polite" aria-label="Messages">
        {messages.map((message) => (
          <MessageItem key={message.id} message={message} mine={message.senderId === me} />
        ))}
        {pending.map((item) => (
          <PendingItem key={item.clientMessageId} item={item} onRetry={onRetry} />
        ))}
      </ol>
    </div>
  );
}

function MessageItem({ message, mine }: { message: ChatMessage; mine: boolean }) {
  return (
    <li className="message" data-mine={mine || undefined}>
      {/* Rendered as a text node: whatever a person typed, markup included, shows as typed. */}
      <p className="bubble">{message.content}</p>
      <span className="message-meta">
        <time dateTime={message.timestamp.toISOString()} title={formatFullTime(message.timestamp)}>
          {formatTime(message.timestamp)}
        </time>
        {mine && <Receipt message={message} />}
      </span>
    </li>
  );
}

const receiptLabels: Record<MessageStatus, string> = {
  sent: "✓ Sent",
  delivered: "✓✓ Delivered",
  read: "✓✓ Read",
};

/** Where one of my messages has got to: stored on the server, on the other person's device, read. */
function Receipt({ message }: { message: ChatMessage }) {
  const { status, deliveredAt, readAt } = message;
  const at = status === "read" ? readAt : status === "delivered" ? deliveredAt : null;
  const title = at ? `${status === "read" ? "Read" : "Delivered"} ${formatFullTime(at)}` : undefined;
  return (
    <span className="receipt" data-status={status} title={title}>
      {receiptLabels[status]}
    </span>
  );
}

function PendingItem({ item, onRetry }: { item: PendingMessage; onRetry: (item: PendingMessage) => void }) {
  return (
    <li className="message" data-mine data-status={item.status}>
      <p className="bubble">{item.content}</p>
      <span className="message-meta">
        {item.status === "sending" ? (
          <span className="receipt" data-status="sending">
            Sending…
          </span>
        ) : (
          <>
            <span className="receipt" data-status="failed" role="alert">
              Not sent: {item.error}
            </span>
            <button type="button" className="link-button" onClick={() => onRetry(item)}>
              Retry
            </button>
          </>
        )}
      </span>
    </li>
  );
}
