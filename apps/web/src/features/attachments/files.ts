import type { ErrorInfo } from "../../describe-error.ts";

/** The server's limit per message (packages/api/src/attachments/schemas.ts). */
export const MAX_ATTACHMENTS = 10;

/** Photos the server accepts, shows inline and makes thumbnails of. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

export function isImage(mimeType: string) {
  return IMAGE_TYPES.has(mimeType.toLowerCase());
}

/** "340 KB", "2.5 MB": bytes in the person's numbering, to one decimal above a kilobyte. */
export function formatSize(bytes: number, locale: string) {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, {
    style: "unit",
    unit: units[unit],
    unitDisplay: unit === 0 ? "long" : "short",
    maximumFractionDigits: unit === 0 || value >= 100 ? 0 : 1,
  }).format(value);
}

export type FileKind = "image" | "pdf" | "document" | "spreadsheet" | "presentation" | "text" | "file";

/** Which icon a file card shows, by its (checked) type. */
export function fileKind(mimeType: string): FileKind {
  const type = mimeType.toLowerCase();
  if (isImage(type)) return "image";
  if (type === "application/pdf") return "pdf";
  if (type.startsWith("text/")) return "text";
  if (/spreadsheet|excel/.test(type)) return "spreadsheet";
  if (/presentation|powerpoint/.test(type)) return "presentation";
  if (/wordprocessing|msword|opendocument\.text/.test(type)) return "document";
  return "file";
}

export const FILE_ICONS: Record<FileKind, string> = {
  image: "🖼",
  pdf: "📕",
  document: "📄",
  spreadsheet: "📊",
  presentation: "📽",
  text: "📝",
  file: "📎",
};

/**
 * Of the files a person picked, dropped or pasted, the ones to upload: empty files are left out
 * (the server refuses them), and no more than fit in one message beside the `already` chosen.
 */
export function chooseFiles(files: readonly File[], already: number) {
  const nonEmpty = files.filter((file) => file.size > 0);
  const room = Math.max(0, MAX_ATTACHMENTS - already);
  return {
    accepted: nonEmpty.slice(0, room),
    empty: files.length - nonEmpty.length,
    tooMany: Math.max(0, nonEmpty.length - room),
  };
}

/** The type to announce to the server; the server decides by the bytes anyway. */
export function claimedType(file: Pick<File, "type">) {
  return /^[\w.+-]+\/[\w.+-]+$/.test(file.type) ? file.type : "application/octet-stream";
}

/**
 * What an upload answered, as the app keeps errors: the upload route answers
 * `{error: {code, message}}`; a status and nothing readable is still a refusal of some kind.
 */
export function uploadErrorInfo(status: number, body: string): ErrorInfo {
  if (status === 0) return { code: undefined, message: "", retryAfter: null };
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    if (typeof code === "string") {
      return { code, message: typeof message === "string" ? message : "", retryAfter: null };
    }
  } catch {
    // Not JSON (a proxy's page): fall back to the status.
  }
  const byStatus: Record<number, string> = {
    400: "BAD_REQUEST",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
  };
  return { code: byStatus[status] ?? "INTERNAL_SERVER_ERROR", message: "", retryAfter: null };
}

/** The files of a drag or a paste, if it carries any (text dragged or pasted carries none). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  return Array.from(data.files);
}

export function carriesFiles(data: DataTransfer | null) {
  return !!data && Array.from(data.types).includes("Files");
}

/** A thumbnail's size on screen: the photo's shape, within `max`×`max`, never enlarged. */
export function fitWithin(width: number | undefined, height: number | undefined, max: number) {
  if (!width || !height) return { width: max, height: max };
  const scale = Math.min(1, max / width, max / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
