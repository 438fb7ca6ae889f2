import { z } from "zod";
import { hasDirectionOverride, id, isPlainLine } from "../schemas.ts";

export const FILE_NAME_MAX_LENGTH = 255;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** A file's name as the person chose it; shown, never used as a storage path. */
export const fileName = z
  .string()
  .trim()
  .min(1, "A file needs a name.")
  .refine((name) => [...name].length <= FILE_NAME_MAX_LENGTH, {
    message: `A file name can be at most ${FILE_NAME_MAX_LENGTH} characters.`,
  })
  .refine(isPlainLine, "A file name must be plain text (no control characters).")
  .refine((name) => !hasDirectionOverride(name), {
    message: "A file name cannot contain direction overrides (U+202A–U+202E, U+2066–U+2069).",
  });

export const createUploadInput = z.object({
  conversationId: id,
  name: fileName,
  /** Bytes the client will send: exactly this many are accepted. */
  size: z.number().int().min(1, "A file cannot be empty.").max(Number.MAX_SAFE_INTEGER),
  /** The client's idea of the type; the bytes decide (an image claim that is not an image is refused). */
  mimeType: z
    .string()
    .trim()
    .max(255)
    .regex(/^[\w.+-]+\/[\w.+-]+$/, "A mimeType looks like type/subtype.")
    .toLowerCase(),
});

export const attachmentIds = z
  .array(id)
  .min(1, "Pass at least one attachment id, or leave attachmentIds out.")
  .max(MAX_ATTACHMENTS_PER_MESSAGE, `A message can carry at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments.`)
  .refine((ids) => new Set(ids).size === ids.length, { message: "An attachment can be sent once per message." });

export type CreateUploadInput = z.infer<typeof createUploadInput>;
