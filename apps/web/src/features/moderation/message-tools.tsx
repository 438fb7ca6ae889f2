import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { useTRPC } from "../../trpc.ts";
import type { ChatMessage } from "../chat/message-pages.ts";
import { MessageText } from "../chat/message-text.tsx";
import { noticeText } from "../chat/notice-text.ts";
import { useLocale } from "../i18n/i18n.ts";
import { useApplyChange } from "./message-changes.ts";

/**
 * The server's default edit window (MESSAGE_EDIT_WINDOW_MINUTES). The server decides: offering
 * the menu a little too long only ends in its refusal, shown to the person.
 */
const EDIT_WINDOW_MS = 15 * 60_000;

type Mode = "view" | "edit" | "delete";

/**
 * A message's bubble: "message deleted" once deleted, Naafe's notices set apart, and on one's own
 * recent messages a menu to edit (inline) or delete (after a confirmation).
 */
export function MessageBubble({ message, mine }: { message: ChatMessage; mine: boolean }) {
  const { t } = useLocale();
  const [mode, setMode] = useState<Mode>("view");
  if (message.deleted) {
    return (
      <p className="bubble deleted-message">
        <em>{t("safety.deleted")}</em>
      </p>
    );
  }
  const editable =
    mine && (message.type ?? "text") === "text" && Date.now() - message.timestamp.getTime() < EDIT_WINDOW_MS;
  if (mode === "edit") return <MessageEditor message={message} onDone={() => setMode("view")} />;
  return (
    <div className="bubble-row">
      {/* A text node, whatever was typed (markup included); `dir="auto"`: each message takes its own direction. */}
      <p className="bubble" dir="auto" data-system={message.type === "system" || undefined}>
        <MessageText content={message.type === "system" ? noticeText(message.content, t) : message.content} />
      </p>
      {editable && mode === "view" && <MessageMenu onEdit={() => setMode("edit")} onDelete={() => setMode("delete")} />}
      {mode === "delete" && <DeleteConfirm messageId={message.id} onDone={() => setMode("view")} />}
    </div>
  );
}

/** "edited", beside the time, on both sides. */
export function EditedLabel({ message }: { message: ChatMessage }) {
  const { t } = useLocale();
  return message.edited && !message.deleted ? <span className="edited-label">{t("safety.edited")}</span> : null;
}

/**
 * Contact details: the sender is told, gently, that the other side sees them hidden and how to
 * share them on purpose; the receiver why the dots are there.
 */
export function MaskedNotice({ message, mine }: { message: ChatMessage; mine: boolean }) {
  const { t } = useLocale();
  if (message.deleted) return null;
  if (mine && message.maskedForReceiver) return <p className="masked-notice">{t("safety.maskedNotice")}</p>;
  if (!mine && message.masked) return <p className="masked-notice">{t("safety.masked")}</p>;
  return null;
}

/** A button opening a menu (Edit, Delete): arrow keys move, Escape closes and returns to the button. */
function MessageMenu({ onEdit, onDelete }: { onEdit: () => void; onDelete: () => void }) {
  const { t } = useLocale();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const items = () => [...(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];

  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    // A click or tap anywhere else closes the menu.
    const outside = (event: PointerEvent) => {
      if (!container.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  function close(returnFocus: boolean) {
    setOpen(false);
    if (returnFocus) button.current?.focus();
  }

  function onMenuKey(event: KeyboardEvent) {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    const move = (to: number) => {
      event.preventDefault();
      all[(to + all.length) % all.length]?.focus();
    };
    if (event.key === "ArrowDown") move(at + 1);
    else if (event.key === "ArrowUp") move(at - 1);
    else if (event.key === "Home") move(0);
    else if (event.key === "End") move(all.length - 1);
    else if (event.key === "Escape") {
      event.preventDefault();
      close(true);
    } else if (event.key === "Tab") close(false);
  }

  const choose = (action: () => void) => () => {
    setOpen(false);
    action();
  };

  return (
    <div ref={container} className="message-menu">
      <button
        ref={button}
        type="button"
        className="menu-button"
        aria-label={t("safety.messageActions")}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen(!open)}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown" && !open) {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          className="menu"
          aria-label={t("safety.messageActions")}
          onKeyDown={onMenuKey}
        >
          <button type="button" role="menuitem" tabIndex={-1} onClick={choose(onEdit)}>
            {t("safety.edit")}
          </button>
          <button type="button" role="menuitem" tabIndex={-1} onClick={choose(onDelete)}>
            {t("safety.delete")}
          </button>
        </div>
      )}
    </div>
  );
}

function MessageEditor({ message, onDone }: { message: ChatMessage; onDone: () => void }) {
  const trpc = useTRPC();
  const { t } = useLocale();
  const apply = useApplyChange();
  const [content, setContent] = useState(message.content);
  const fieldId = useId();
  const edit = useMutation(
    trpc.chat.editMessage.mutationOptions({
      onSuccess() {
        // Whether the receiver sees it masked arrives with the live change (onMessageChanged).
        apply({ messageId: message.id, kind: "edited", content: content.trim() });
        onDone();
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (content.trim() === message.content) return onDone();
    edit.mutate({ messageId: message.id, content: content.trim() });
  }

  return (
    <form className="message-editor" onSubmit={submit}>
      <label htmlFor={fieldId} className="visually-hidden">
        {t("safety.editLabel")}
      </label>
      <textarea
        id={fieldId}
        value={content}
        // biome-ignore lint/a11y/noAutofocus: the person just chose "Edit"; the field is where they are going.
        autoFocus
        rows={2}
        dir="auto"
        onChange={(event) => setContent(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onDone();
        }}
      />
      <div className="inline-form">
        <button type="submit" className="button" disabled={edit.isPending || !content.trim()}>
          {t("safety.save")}
        </button>
        <button type="button" className="button subtle" onClick={onDone}>
          {t("safety.cancel")}
        </button>
      </div>
      {edit.isError && (
        <p className="error small" role="alert">
          {describeError(edit.error)}
        </p>
      )}
    </form>
  );
}

function DeleteConfirm({ messageId, onDone }: { messageId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const { t } = useLocale();
  const apply = useApplyChange();
  const remove = useMutation(
    trpc.chat.deleteMessage.mutationOptions({
      onSuccess() {
        apply({ messageId, kind: "deleted", content: "" });
        onDone();
      },
    }),
  );
  return (
    <fieldset className="message-confirm">
      <legend className="small">{t("safety.deleteConfirm")}</legend>
      <div className="inline-form">
        <button
          type="button"
          className="button"
          disabled={remove.isPending}
          onClick={() => remove.mutate({ messageId })}
        >
          {t("safety.confirmDelete")}
        </button>
        <button type="button" className="button subtle" onClick={onDone}>
          {t("safety.cancel")}
        </button>
      </div>
      {remove.isError && (
        <p className="error small" role="alert">
          {describeError(remove.error)}
        </p>
      )}
    </fieldset>
  );
}
