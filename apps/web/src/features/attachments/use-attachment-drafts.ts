import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type ErrorInfo, errorInfo } from "../../describe-error.ts";
import { useTRPCClient } from "../../trpc.ts";
import { chooseFiles, claimedType, isImage } from "./files.ts";
import { sendFile, UploadCancelled, UploadError } from "./upload.ts";

export type DraftStatus = "uploading" | "uploaded" | "failed";

/** A file chosen for the next message: its preview, and how far its upload has got. */
export interface Draft {
  key: string;
  file: File;
  /** An object URL of the photo, for its thumbnail before sending (revoked when it goes). */
  previewUrl: string | null;
  status: DraftStatus;
  /** 0–1 while uploading. */
  progress: number;
  uploadId: string | null;
  error: ErrorInfo | null;
}

/** Files left out of the last choice: empty ones, and those past the per-message limit. */
export interface Skipped {
  empty: number;
  tooMany: number;
}

let nextKey = 0;

/**
 * The attachments of the message being written in one conversation: each file is uploaded as soon
 * as it is chosen (`chat.createUpload`, then its bytes), can be cancelled, removed or retried, and
 * the uploaded ones are sent with the message (`ids`).
 */
export function useAttachmentDrafts(conversationId: string) {
  const client = useTRPCClient();
  const [drafts, setDrafts] = useState<Draft[]>([]);
  const [skipped, setSkipped] = useState<Skipped>({ empty: 0, tooMany: 0 });
  const controllers = useRef(new Map<string, AbortController>());
  const draftsRef = useRef(drafts);
  draftsRef.current = drafts;

  const update = useCallback((key: string, change: Partial<Draft>) => {
    setDrafts((list) => list.map((draft) => (draft.key === key ? { ...draft, ...change } : draft)));
  }, []);

  const upload = useCallback(
    async (key: string, file: File) => {
      const controller = new AbortController();
      controllers.current.set(key, controller);
      update(key, { status: "uploading", progress: 0, error: null, uploadId: null });
      try {
        const target = await client.chat.createUpload.mutate(
          { conversationId, name: file.name, size: file.size, mimeType: claimedType(file) },
          { signal: controller.signal },
        );
        await sendFile(target, file, (progress) => update(key, { progress }), controller.signal);
        update(key, { status: "uploaded", progress: 1, uploadId: target.uploadId });
      } catch (error) {
        // A cancelled upload is removed by whoever cancelled it; nothing to show.
        if (error instanceof UploadCancelled || controller.signal.aborted) return;
        update(key, { status: "failed", error: error instanceof UploadError ? error.info : errorInfo(error) });
      } finally {
        if (controllers.current.get(key) === controller) controllers.current.delete(key);
      }
    },
    [client, conversationId, update],
  );

  const add = useCallback(
    (files: readonly File[]) => {
      const { accepted, empty, tooMany } = chooseFiles(files, draftsRef.current.length);
      setSkipped({ empty, tooMany });
      if (accepted.length === 0) return;
      const added = accepted.map(
        (file): Draft => ({
          key: `draft-${++nextKey}`,
          file,
          previewUrl: isImage(file.type) ? URL.createObjectURL(file) : null,
          status: "uploading",
          progress: 0,
          uploadId: null,
          error: null,
        }),
      );
      draftsRef.current = [...draftsRef.current, ...added];
      setDrafts(draftsRef.current);
      for (const draft of added) void upload(draft.key, draft.file);
    },
    [upload],
  );

  /** Cancels the upload if it is still going, and takes the file out of the message. */
  const remove = useCallback((key: string) => {
    controllers.current.get(key)?.abort();
    controllers.current.delete(key);
    const draft = draftsRef.current.find((d) => d.key === key);
    if (draft?.previewUrl) URL.revokeObjectURL(draft.previewUrl);
    draftsRef.current = draftsRef.current.filter((d) => d.key !== key);
    setDrafts(draftsRef.current);
  }, []);

  const retry = useCallback(
    (key: string) => {
      const draft = draftsRef.current.find((d) => d.key === key);
      if (draft && draft.status === "failed") void upload(key, draft.file);
    },
    [upload],
  );

  /** After the message is sent: the files are in it, and the previews can go. */
  const clear = useCallback(() => {
    for (const draft of draftsRef.current) if (draft.previewUrl) URL.revokeObjectURL(draft.previewUrl);
    draftsRef.current = [];
    setDrafts([]);
    setSkipped({ empty: 0, tooMany: 0 });
  }, []);

  // Leaving the conversation cancels what is still uploading and frees the previews.
  useEffect(
    () => () => {
      for (const controller of controllers.current.values()) controller.abort();
      controllers.current.clear();
      for (const draft of draftsRef.current) if (draft.previewUrl) URL.revokeObjectURL(draft.previewUrl);
    },
    [],
  );

  return useMemo(() => {
    const uploading = drafts.some((d) => d.status === "uploading");
    const failed = drafts.some((d) => d.status === "failed");
    const ids = drafts.flatMap((d) => (d.status === "uploaded" && d.uploadId ? [d.uploadId] : []));
    return {
      drafts,
      skipped,
      add,
      remove,
      retry,
      clear,
      /** Upload ids to send; only when every file is uploaded (none still going, none failed). */
      ids: !uploading && !failed ? ids : [],
      busy: uploading,
      failed,
    };
  }, [drafts, skipped, add, remove, retry, clear]);
}

export type AttachmentDrafts = ReturnType<typeof useAttachmentDrafts>;
