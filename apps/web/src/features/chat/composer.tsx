import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from "react";

// Mirrors the server's limit (it counts code points, as a person counts characters); the
// server still checks, and its message is shown if the two ever disagree.
export const MESSAGE_MAX_LENGTH = 2000;

export function characterCount(text: string) {
  return [...text.trim()].length;
}

interface Props {
  onSend: (content: string) => void;
  /** `true` on each keystroke that leaves text to send; `false` once it is cleared or sent, or the field is left. */
  onTypingChange?: (isTyping: boolean) => void;
  disabled?: boolean;
}

export function Composer({ onSend, onTypingChange, disabled = false }: Props) {
  const [text, setText] = useState("");
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
  const canSend = !disabled && count > 0 && !over;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text.trim());
    setText("");
    onTypingChange?.(false);
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
      <label htmlFor={inputId} className="visually-hidden">
        Message
      </label>
      <textarea
        ref={input}
        id={inputId}
        value={text}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => onTypingChange?.(false)}
        rows={2}
        placeholder="Write a message…"
        title="Enter sends, Shift+Enter starts a new line"
        aria-describedby={counterId}
        aria-invalid={over || undefined}
        disabled={disabled}
      />
      <div className="composer-side">
        <span id={counterId} className="counter" data-over={over || undefined} data-near={count > 1800 || undefined}>
          <span className="visually-hidden">Characters: </span>
          {count}/{MESSAGE_MAX_LENGTH}
        </span>
        <button type="submit" className="button" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
