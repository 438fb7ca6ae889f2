import { type DragEvent, useCallback, useId, useMemo, useRef, useState } from "react";
import { describeError, type ErrorInfo, errorInfo } from "../../describe-error.ts";
import { type RouterOutputs, useTRPCClient } from "../../trpc.ts";
import { useOnline } from "../connection/connection-status.tsx";
import { useLocale } from "../i18n/i18n.ts";
import { carriesFiles, FILE_ICONS, fileKind, filesOf, formatSize, MAX_ATTACHMENTS } from "./files.ts";
import { type AttachmentDrafts, type Draft, useAttachmentDrafts } from "./use-attachment-drafts.ts";

export type SentMessage = RouterOutputs["chat"]["sendMessage"];

/**
 * Attachments for a conversation's composer: files chosen with the button, dropped on the
 * conversation (`dropZone`, spread on its element) or pasted into the field, uploaded at once,
 * and sent with the text. Not through the offline outbox: attaching needs a connection.
 */
export function useComposerAttachments(conversationId: string, onSent: (message: SentMessage) => void) {
  const client = useTRPCClient();
  const drafts = useAttachmentDrafts(conversationId);
  const online = useOnline();
  const [dragging, setDragging] = useState(false);
  const [sendError, setSendError] = useState<ErrorInfo | null>(null);
  // One id per message being put together, so a retried send is stored once.
  const clientMessageId = useRef<string | null>(null);

  const { add, ids, clear } = drafts;
  const addFiles = useCallback(
    (files: File[]) => {
      if (!online || files.length === 0) return;
      setSendError(null);
      add(files);
    },
    [add, online],
  );

  const sendWith = useCallback(
    async (content: string) => {
      setSendError(null);
      clientMessageId.current ??= crypto.randomUUID();
      try {
        const sent = await client.chat.sendMessage.mutate({
          conversationId,
          ...(content ? { content } : {}),
          attachmentIds: ids,
          clientMessageId: clientMessageId.current,
        });
        clientMessageId.current = null;
        clear();
        onSent(sent);
      } catch (error) {
        setSendError(errorInfo(error));
        throw error;
      }
    },
    [client, conversationId, ids, clear, onSent],
  );

  const dropZone = useMemo(
    () => ({
      onDragOver(event: DragEvent<HTMLElement>) {
        if (!carriesFiles(event.dataTransfer)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = online ? "copy" : "none";
        setDragging(true);
      },
      onDragLeave(event: DragEvent<HTMLElement>) {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      },
      onDrop(event: DragEvent<HTMLElement>) {
        if (!carriesFiles(event.dataTransfer)) return;
        event.preventDefault();
        setDragging(false);
        addFiles(filesOf(event.dataTransfer));
      },
    }),
    [online, addFiles],
  );

  return {
    drafts,
    online,
    dragging,
    dropZone,
    sendError,
    addFiles,
    /** Whether the next send carries attachments (then it goes straight to the server). */
    ready: ids.length > 0,
    /** Uploads still going or failed: the message waits for them (or for their removal). */
    blocked: drafts.busy || drafts.failed,
    send: sendWith,
  };
}

export type ComposerAttachments = ReturnType<typeof useComposerAttachments>;

/** The paper-clip button and its (hidden) file input; disabled while offline. */
export function AttachButton({ attachments, disabled }: { attachments: ComposerAttachments; disabled?: boolean }) {
  const { t } = useLocale();
  const input = useRef<HTMLInputElement>(null);
  const full = attachments.drafts.drafts.length >= MAX_ATTACHMENTS;
  const off = disabled || !attachments.online || full;
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        className="attach-input"
        onChange={(event) => {
          attachments.addFiles(Array.from(event.target.files ?? []));
          event.target.value = "";
        }}
      />
      <button
        type="button"
        className="button subtle attach-button"
        disabled={off}
        title={!attachments.online ? t("attachments.offline") : undefined}
        onClick={() => input.current?.click()}
      >
        <span aria-hidden="true">📎</span>
        <span className="visually-hidden">{t("attachments.attach")}</span>
      </button>
    </>
  );
}

/** The files chosen for the next message: previews, upload progress, cancel, retry, remove. */
export function AttachmentTray({ attachments }: { attachments: ComposerAttachments }) {
  const { t } = useLocale();
  const { drafts, skipped } = attachments.drafts;
  const listId = useId();
  const notes: string[] = [];
  if (!attachments.online) notes.push(t("attachments.offline"));
  if (skipped.empty > 0) notes.push(t("attachments.skippedEmpty", { count: skipped.empty }));
  if (skipped.tooMany > 0) notes.push(t("attachments.skippedTooMany", { count: MAX_ATTACHMENTS }));
  if (drafts.length === 0 && notes.length === 0 && !attachments.dragging && !attachments.sendError) return null;
  return (
    <div className="attachment-tray" data-dragging={attachments.dragging || undefined}>
      {attachments.dragging && <p className="drop-hint">{t("attachments.dropHere")}</p>}
      {notes.length > 0 && (
        <p className="muted small" role="status">
          {notes.join(" ")}
        </p>
      )}
      {attachments.sendError && (
        <p className="error small" role="alert">
          {t("attachments.notSent", { reason: describeError(attachments.sendError) })}
        </p>
      )}
      {drafts.length > 0 && (
        <ul className="draft-list" id={listId} aria-label={t("attachments.chosen")}>
          {drafts.map((draft) => (
            <DraftItem key={draft.key} draft={draft} drafts={attachments.drafts} />
          ))}
        </ul>
      )}
    </div>
  );
}

function DraftItem({ draft, drafts }: { draft: Draft; drafts: AttachmentDrafts }) {
  const { t, locale } = useLocale();
  const name = draft.file.name;
  const percent = Math.round(draft.progress * 100);
  return (
    <li className="draft" data-status={draft.status}>
      {draft.previewUrl ? (
        <img className="draft-preview" src={draft.previewUrl} alt={name} />
      ) : (
        <span className="draft-icon" aria-hidden="true">
          {FILE_ICONS[fileKind(draft.file.type)]}
        </span>
      )}
      <span className="draft-details">
        <bdi className="draft-name" dir="auto">
          {name}
        </bdi>
        <span className="muted small">{formatSize(draft.file.size, locale)}</span>
        {draft.status === "uploading" && (
          <progress max={100} value={percent} aria-label={t("attachments.uploading", { name })}>
            {percent}%
          </progress>
        )}
        {draft.status === "uploaded" && (
          <span className="small draft-done" role="status">
            {t("attachments.uploaded")}
          </span>
        )}
        {draft.status === "failed" && (
          <span className="error small" role="alert">
            {t("attachments.failed", { reason: describeError(draft.error ?? errorInfo(null)) })}
          </span>
        )}
      </span>
      <span className="draft-actions">
        {draft.status === "failed" && (
          <button
            type="button"
            className="link-button"
            aria-label={t("attachments.retryFile", { name })}
            onClick={() => drafts.retry(draft.key)}
          >
            {t("attachments.retry")}
          </button>
        )}
        <button
          type="button"
          className="link-button"
          aria-label={t(draft.status === "uploading" ? "attachments.cancelFile" : "attachments.removeFile", { name })}
          onClick={() => drafts.remove(draft.key)}
        >
          {t(draft.status === "uploading" ? "attachments.cancel" : "attachments.remove")}
        </button>
      </span>
    </li>
  );
}
