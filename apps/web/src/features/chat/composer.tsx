import {
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";
import { useLocale } from "../i18n/i18n.ts";

// Mirrors the server's limit (it counts code points, as a person counts characters); the
// server still checks, and its message is shown if the two ever disagree.
export const MESSAGE_MAX_LENGTH = 2000;

/** Digits in the person's numbering system, without grouping: "1800/2000" reads as a counter. */
const plain = { useGrouping: false } as const;

export function characterCount(text: string) {
  return [...text.trim()].length;
}

interface Props {
  /** A promise keeps the text until it settles, and keeps it if it fails (an attachment send). */
  onSend: (content: string) => unknown;
  /** `true` on each keystroke that leaves text to send; `false` once it is cleared or sent, or the field is left. */
  onTypingChange?: (isTyping: boolean) => void;
  disabled?: boolean;
  /** Something besides text to send (uploaded attachments): the text may be left empty. */
  allowEmpty?: boolean;
  /** Not yet (attachments still uploading, or one failed). */
  sendBlocked?: boolean;
  /** Files pasted into the field (text pastes as usual). */
  onPasteFiles?: (files: File[]) => void;
  /** Shown above the field (attachment previews). */
  above?: ReactNode;
  /** Shown beside the send button (the attach button). */
  tools?: ReactNode;
}

export function Composer(props: Props) {
  const { onSend, onTypingChange, disabled = false, allowEmpty = false, sendBlocked = false } = props;
  const { onPasteFiles, above, tools } = props;
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const { t, locale } = useLocale();
  const input = useRef<HTMLTextAreaElement>(null);
  // Opening a conversation is usually to write in it; not on touch screens, where focusing
  // would throw up the keyboard over the history one came to read.
  useEffect(() => {
    if (window.matchMedia("(pointer: fine)").matches) input.current?.focus({ preventScroll: true });
  }, []);
  const inputId = useId();
  const counterId = useId();
  const count = characterCount(text);
  const over = count > MESSAGE_MAX_LENGTH;
  const canSend = !disabled && !sending && !sendBlocked && (count > 0 || allowEmpty) && !over;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    const sent = onSend(text.trim());
    onTypingChange?.(false);
    if (!(sent instanceof Promise)) {
      setText("");
      return;
    }
    setSending(true);
    sent.then(
      () => {
        setText("");
        setSending(false);
      },
      () => setSending(false),
    );
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = Array.from(event.clipboardData.files);
    if (!onPasteFiles || files.length === 0) return;
    event.preventDefault();
    onPasteFiles(files);
  }

  function onChange(value: string) {
    setText(value);
    onTypingChange?.(value.trim() !== "");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter starts a new line; never while an input method is composing.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      {above}
      <label htmlFor={inputId} className="visually-hidden">
        {t("composer.label")}
      </label>
      <textarea
        ref={input}
        id={inputId}
        value={text}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        onBlur={() => onTypingChange?.(false)}
        rows={2}
        dir="auto"
        placeholder={t("composer.placeholder")}
        title={t("composer.hint")}
        aria-describedby={counterId}
        aria-invalid={over || undefined}
        disabled={disabled}
      />
      <div className="composer-side">
        {tools}
        <span id={counterId} className="counter" data-over={over || undefined} data-near={count > 1800 || undefined}>
          <span className="visually-hidden">{t("composer.characters")}</span>
          <bdi>
            {count.toLocaleString(locale, plain)}/{MESSAGE_MAX_LENGTH.toLocaleString(locale, plain)}
          </bdi>
        </span>
        <button type="submit" className="button send-button" disabled={!canSend}>
          <span className="direction-icon" aria-hidden="true">
            ➤
          </span>
          <span>{t("composer.send")}</span>
        </button>
      </div>
    </form>
  );
}
