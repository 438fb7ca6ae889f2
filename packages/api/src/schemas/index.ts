import { z } from "zod";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// In a message, newline and tab are text; every other control character is not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/**
 * One line of real text: no control characters, no lone surrogates. PostgreSQL refuses NUL, and
 * would store a lone surrogate as U+FFFD, making two different keys equal.
 */
export const isPlainLine = (text: string) => text.isWellFormed() && !CONTROL.test(text);

/** Ids are opaque strings (UUIDs here, ObjectIds in the seed). */
export const id = z
  .string()
  .trim()
  .min(1, "An id is required.")
  .max(100, "That id is too long.")
  .refine(isPlainLine, "An id must be plain text.");

export const MESSAGE_MAX_LENGTH = 2000;

/** Message text: trimmed, 1–2000 characters (as a person counts them: code points), plain text. */
export const messageContent = z
  .string()
  .transform((text) => text.replaceAll("\r\n", "\n").trim())
  .pipe(
    z
      .string()
      .min(1, "A message cannot be empty.")
      .refine((text) => [...text].length <= MESSAGE_MAX_LENGTH, {
        message: `A message can be at most ${MESSAGE_MAX_LENGTH} characters.`,
      })
      .refine((text) => !FORBIDDEN_CONTROL.test(text), {
        message: "A message cannot contain control characters (only newlines and tabs).",
      })
      .refine((text) => text.isWellFormed(), { message: "A message must be valid Unicode text." }),
  );

const page = z.number().int().min(1).max(1_000_000).default(1);
const limit = z.number().int().min(1).max(100).default(20);

export const conversationsInput = z.object({ page, limit }).default({ page: 1, limit: 20 });

export const messagesInput = z.object({
  conversationId: id,
  page,
  limit,
  /** A messageId: return the messages before it (older), for infinite scroll. */
  before: id.optional(),
});

export const conversationInput = z.object({ conversationId: id });

export const conversationByJobRequestInput = z.object({ jobRequestId: id });

export const sendMessageInput = z.object({
  conversationId: id,
  /** Optional: when given, it must be the other participant. */
  receiverId: id.optional(),
  content: messageContent,
  /** Chosen by the client; a retry with the same value returns the first message instead of a copy. */
  clientMessageId: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine(isPlainLine, "A clientMessageId must be plain text.")
    .optional(),
});

export const onMessageInput = z.object({
  conversationId: id,
  /** The last messageId the client has; set by tRPC's wsLink when it reconnects. */
  lastEventId: id.nullish(),
  /**
   * false: not the messages sent over this same connection, which the sender has already in
   * `sendMessage`'s result (the seed's `message-sent`). Those sent from anywhere else, the
   * sender's other tabs and devices included, still arrive.
   */
  echo: z.boolean().default(true),
});

export const typingInput = z.object({ conversationId: id, isTyping: z.boolean() });

export const createJobRequestInput = z.object({
  title: z
    .string()
    .trim()
    .min(3, "A title needs at least 3 characters.")
    .max(200, "A title can be at most 200 characters.")
    .refine(isPlainLine, "A title must be plain text on one line."),
});

export const createOfferInput = z.object({
  jobRequestId: id,
  price: z
    .number()
    .nonnegative("A price cannot be negative.")
    .max(1_000_000_000, "A price can be at most 1,000,000,000.")
    .multipleOf(0.01, "A price is in whole cents.")
    // multipleOf lets a denormal like 5e-324 through; it would be stored as 0.00.
    .refine((price) => price === 0 || price >= 0.01, "A price is in whole cents.")
    .optional(),
});

export const acceptOfferInput = z.object({ offerId: id });

export const demoSignInInput = z.object({ userId: id });

export type SendMessageInput = z.infer<typeof sendMessageInput>;
