import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import { FILE_ICONS, fileKind, fitWithin, formatSize, isImage } from "./files.ts";

export interface AttachmentView {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  width?: number | undefined;
  height?: number | undefined;
  url: string;
  thumbnailUrl?: string | undefined;
}

const THUMBNAIL_BOX = 240;

/**
 * Links to files expire (15 minutes): an image that fails to load asks for the messages again,
 * which come with fresh links, then loads again (`key` remounts the <img>). Once per image shown,
 * so a file that is really gone does not loop.
 */
function useReloadWhenExpired() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [attempt, setAttempt] = useState(0);
  const onError = () => {
    if (attempt > 0) return;
    void queryClient
      .refetchQueries({ queryKey: trpc.chat.messages.pathKey(), type: "active" }, { cancelRefetch: false })
      .finally(() => setAttempt(1));
  };
  return { key: attempt, onError };
}

/** A message's photos (thumbnails that open in a lightbox) and files (cards that download). */
export function MessageAttachments({ attachments }: { attachments: readonly AttachmentView[] }) {
  const { t } = useLocale();
  const images = attachments.filter((a) => isImage(a.mimeType));
  const files = attachments.filter((a) => !isImage(a.mimeType));
  return (
    <div className="message-attachments">
      {images.length > 0 && (
        <ul className="attachment-images" aria-label={t("attachments.photos")}>
          {images.map((image) => (
            <li key={image.id}>
              <ImageThumbnail image={image} />
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="attachment-files" aria-label={t("attachments.files")}>
          {files.map((file) => (
            <li key={file.id}>
              <FileCard file={file} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ImageThumbnail({ image }: { image: AttachmentView }) {
  const { t } = useLocale();
  const thumbnailLoad = useReloadWhenExpired();
  const fullLoad = useReloadWhenExpired();
  const dialog = useRef<HTMLDialogElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const [open, setOpen] = useState(false);
  const size = fitWithin(image.width, image.height, THUMBNAIL_BOX);
  const src = image.thumbnailUrl ?? image.url;

  function show() {
    setOpen(true);
    dialog.current?.showModal();
  }

  function close() {
    dialog.current?.close();
  }

  return (
    <>
      <button
        ref={trigger}
        type="button"
        className="attachment-thumbnail"
        aria-haspopup="dialog"
        aria-label={t("attachments.openPhoto", { name: image.name })}
        onClick={show}
      >
        <img
          key={thumbnailLoad.key}
          src={src}
          alt=""
          width={size.width}
          height={size.height}
          onError={thumbnailLoad.onError}
        />
      </button>
      {/* Escape closes a modal <dialog> by itself; focus goes back to the thumbnail. */}
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: a backdrop click is the mouse's Escape, which the keyboard already has. */}
      <dialog
        ref={dialog}
        className="lightbox"
        aria-label={image.name}
        onClose={() => {
          setOpen(false);
          trigger.current?.focus();
        }}
        onClick={(event) => {
          // A click on the backdrop (the dialog itself, outside its content) closes it.
          if (event.target === event.currentTarget) close();
        }}
      >
        <div className="lightbox-content">
          <div className="lightbox-bar">
            <bdi className="lightbox-name" dir="auto">
              {image.name}
            </bdi>
            <a className="link-button" href={image.url} download={image.name}>
              {t("attachments.download")}
            </a>
            <button type="button" className="button subtle" onClick={close}>
              {t("attachments.close")}
            </button>
          </div>
          {open && (
            <img
              key={fullLoad.key}
              className="lightbox-image"
              src={image.url}
              alt={image.name}
              width={image.width}
              height={image.height}
              onError={fullLoad.onError}
            />
          )}
        </div>
      </dialog>
    </>
  );
}

function FileCard({ file }: { file: AttachmentView }) {
  const { t, locale } = useLocale();
  const kind = fileKind(file.mimeType);
  return (
    <a className="file-card" href={file.url} download={file.name}>
      <span className="file-icon" aria-hidden="true">
        {FILE_ICONS[kind]}
      </span>
      <span className="file-details">
        <bdi className="file-name" dir="auto">
          {file.name}
        </bdi>
        <span className="small muted">
          {t(`attachments.kind.${kind}`)} · {formatSize(file.size, locale)}
          <span className="visually-hidden"> · {t("attachments.download")}</span>
        </span>
      </span>
    </a>
  );
}
