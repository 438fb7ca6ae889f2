import type { ErrorInfo } from "../../describe-error.ts";
import { uploadErrorInfo } from "./files.ts";

export interface UploadTarget {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export class UploadError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message || `Upload failed (${info.code ?? "network"})`);
  }
}

export class UploadCancelled extends Error {
  constructor() {
    super("Upload cancelled");
  }
}

/**
 * Sends a file's bytes where `chat.createUpload` said, reporting progress (0–1). XMLHttpRequest,
 * since fetch reports no upload progress; `signal` aborts it (an `UploadCancelled`).
 */
export function sendFile(
  target: UploadTarget,
  file: Blob,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new UploadCancelled());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(target.method, target.url);
    for (const [name, value] of Object.entries(target.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      signal.removeEventListener("abort", abort);
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new UploadError(uploadErrorInfo(xhr.status, xhr.responseText)));
      }
    };
    xhr.onerror = () => {
      signal.removeEventListener("abort", abort);
      reject(new UploadError(uploadErrorInfo(0, "")));
    };
    xhr.onabort = () => reject(new UploadCancelled());
    const abort = () => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    xhr.send(file);
  });
}
