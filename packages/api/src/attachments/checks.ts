import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import { DomainError } from "../errors.ts";

/** What an upload may be: decided from its bytes, never from its name or the client's header. */
export const ALLOWED_TYPES: Record<string, "image" | "file"> = {
  "image/jpeg": "image",
  "image/png": "image",
  "image/webp": "image",
  "application/pdf": "file",
  "text/plain": "file",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "file",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "file",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "file",
  "application/vnd.oasis.opendocument.text": "file",
  "application/vnd.oasis.opendocument.spreadsheet": "file",
  "application/vnd.oasis.opendocument.presentation": "file",
  // Word 97–2003, Excel and PowerPoint files (Compound File Binary).
  "application/x-cfb": "file",
};

export interface AttachmentLimits {
  /** Largest image, in bytes. */
  imageBytes: number;
  /** Largest other file, in bytes. */
  fileBytes: number;
  /** Bytes one user may upload per 24 hours. */
  dailyBytes: number;
  /** Largest image in pixels (width × height): a guard against decompression bombs. */
  maxPixels: number;
}

export const DEFAULT_LIMITS: AttachmentLimits = {
  imageBytes: 10 * 1024 * 1024,
  fileBytes: 25 * 1024 * 1024,
  dailyBytes: 200 * 1024 * 1024,
  maxPixels: 40_000_000,
};

/** How many bytes of a file's start are read to decide its type. */
export const SNIFF_BYTES = 64 * 1024;

const THUMBNAIL_SIZE = 320;

export const unsupported = (name: string, why: string) =>
  new DomainError("UNSUPPORTED_MEDIA_TYPE", `“${name}” cannot be sent: ${why}`);
export const tooLarge = (name: string, why: string) =>
  new DomainError("PAYLOAD_TOO_LARGE", `“${name}” cannot be sent: ${why}`);

export function megabytes(bytes: number) {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

// Markup is never accepted as "plain text": a browser could be talked into rendering it.
const MARKUP = /^\s*(<!doctype\s|<html|<head|<body|<script|<svg|<\?xml|<iframe|<!--)/i;

/**
 * The file's type from its first bytes (`head`), or an error naming the file. `claimed` is the
 * client's type: a file that claims to be an image and is not one is refused as lying.
 */
export async function detectType(name: string, claimed: string, head: Buffer) {
  const detected = await fileTypeFromBuffer(head);
  let mimeType = detected?.mime as string | undefined;
  if (!mimeType && isPlainText(head)) mimeType = "text/plain";
  const kind = mimeType ? ALLOWED_TYPES[mimeType] : undefined;
  if (!mimeType || !kind) {
    const what = detected ? `its content is ${detected.mime}` : "its content is not a supported type";
    throw unsupported(name, `${what}. Send photos (JPEG, PNG, WebP), PDF, plain text or office documents.`);
  }
  if (claimed.startsWith("image/") && kind !== "image") {
    throw unsupported(name, `it is named as an image but its content is ${mimeType}.`);
  }
  return { mimeType, kind };
}

function isPlainText(head: Buffer): boolean {
  if (head.length === 0 || head.includes(0)) return false;
  try {
    // `stream: true`: a character cut at the end of the sniffed bytes is not an error.
    const text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return !MARKUP.test(text.replace(/^\uFEFF/, ""));
  } catch {
    return false;
  }
}

/**
 * Re-encodes an image in its own format (which drops EXIF, GPS and every other metadata, after
 * turning it upright) and makes a WebP thumbnail at most 320 px on its longer side. Images of
 * more than `maxPixels` are refused before they are decoded.
 */
export async function processImage(name: string, input: Buffer, mimeType: string, maxPixels: number) {
  const options = { limitInputPixels: maxPixels, failOn: "error" as const, sequentialRead: true };
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(input, { limitInputPixels: false }).metadata());
  } catch {
    throw unsupported(name, "the image is damaged or incomplete.");
  }
  if (!width || !height) throw unsupported(name, "the image is damaged or incomplete.");
  if (width * height > maxPixels) {
    throw tooLarge(
      name,
      `the image is ${width}×${height} pixels; the most is ${maxPixels.toLocaleString("en")} pixels.`,
    );
  }
  const format = mimeType === "image/png" ? "png" : mimeType === "image/webp" ? "webp" : "jpeg";
  try {
    const [image, thumbnail] = await Promise.all([
      sharp(input, options).rotate().toFormat(format).toBuffer({ resolveWithObject: true }),
      sharp(input, options)
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 75 })
        .toBuffer(),
    ]);
    return { image: image.data, width: image.info.width, height: image.info.height, thumbnail };
  } catch {
    throw unsupported(name, "the image is damaged or incomplete.");
  }
}

// Control characters and bidi marks (direction overrides are refused by the input schema).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE_NAME_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\uFEFF]/g;

/**
 * A file name safe to show and to offer as a download name: its last path segment only, without
 * control characters or leading dots. The stored file's key is never derived from it.
 */
export function cleanFileName(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? "";
  const name = last.replace(UNSAFE_NAME_CHARACTERS, "").normalize("NFC").trim().replace(/^\.+/, "");
  return name || "file";
}
