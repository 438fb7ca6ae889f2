import { z } from "zod";
import { attachmentIds } from "../attachments/schemas.ts";
import { hasDirectionOverride, hasVisibleText, id, isPlainLine, limitParam, pageParam } from "../schemas.ts";

// In a message, newline and tab are text; every other control character is not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

export const MESSAGE_MAX_LENGTH = 2000;

/** Message text: trimmed, 1–2000 characters (as a person counts them: code points), plain text. */
export const messageContent = z
  .string()
  .transform((text) => text.replaceAll("\r\n", "\n").trim())
  .pipe(
    z
      .string()
      .min(1, "A message cannot be empty.")
      // Code points are never more than UTF-16 units: only a long text needs counting.
      .refine((text) => text.length <= MESSAGE_MAX_LENGTH || [...text].length <= MESSAGE_MAX_LENGTH, {
        message: `A message can be at most ${MESSAGE_MAX_LENGTH} characters.`,
      })
      .refine((text) => !FORBIDDEN_CONTROL.test(text), {
        message: "A message cannot contain control characters (only newlines and tabs).",
      })
      .refine((text) => text.isWellFormed(), { message: "A message must be valid Unicode text." })
      .refine(hasVisibleText, { message: "A message needs some visible text." })
      .refine((text) => !hasDirectionOverride(text), {
        message: "A message cannot contain direction overrides (U+202A–U+202E, U+2066–U+2069).",
      }),
  );

// The inputs of the procedures that are also REST paths (`meta.openapi` in router.ts) are strict:
// an unknown field (a typo, a token in the query string) is refused, not silently dropped.

export const conversationsInput = z
  .strictObject({ page: pageParam, limit: limitParam })
  .default({ page: 1, limit: 20 });

export const messagesInput = z
  .strictObject({
    conversationId: id,
    page: pageParam,
    limit: limitParam,
    before: id.describe("A messageId: return the messages before it (older), for infinite scroll.").optional(),
    around: id.describe("A messageId (a search result): return the page with it in the middle.").optional(),
  })
  .refine((input) => !(input.before && input.around), { message: "Pass either `before` or `around`, not both." });

export const conversationInput = z.strictObject({ conversationId: id });

export const conversationByJobRequestInput = z.strictObject({ jobRequestId: id });

export const sendMessageInput = z
  .strictObject({
    conversationId: id,
    /** Optional: when given, it must be the other participant. */
    receiverId: id.optional(),
    /** The text; optional when the message carries attachments. */
    content: messageContent.optional(),
    /** Uploads (chat.createUpload) to send with this message: the sender's own, in this conversation, up to 10. */
    attachmentIds: attachmentIds.optional(),
    /** Chosen by the client; a retry with the same value returns the first message instead of a copy. */
    clientMessageId: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .refine(isPlainLine, "A clientMessageId must be plain text.")
      .optional(),
  })
  .refine((input) => input.content !== undefined || input.attachmentIds !== undefined, {
    message: "A message needs text or attachments.",
    path: ["content"],
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

export type SendMessageInput = z.infer<typeof sendMessageInput>;

// Outputs of the procedures that are also REST paths: what they return, checked by tRPC and
// published in /openapi.json. Dates are Date objects here; over REST they are ISO 8601 strings.

const instant = z.date().meta({ format: "date-time", description: "Over REST, an ISO 8601 string." });
const count = z.number().int().min(0);
const person = z.object({ id: z.string(), name: z.string().nullable() });
const pagination = z.object({ page: count, limit: count, total: count, pages: count });
const messageType = z.enum(["text", "image", "file", "system"]);
const attachmentView = z.object({
  id: z.string(),
  name: z.string(),
  mimeType: z.string(),
  size: count,
  width: count.optional(),
  height: count.optional(),
  url: z.string().describe("A signed link: a plain GET fetches the file until it expires (at most 15 minutes)."),
  thumbnailUrl: z.string().optional(),
});

export const conversationView = z.object({
  id: z.string(),
  jobRequestId: z.string(),
  jobRequest: z.object({ id: z.string(), title: z.string(), status: z.string() }),
  participants: z.object({ seeker: person, provider: person }),
  otherParticipant: person.describe("Whom the caller talks to."),
  role: z.enum(["seeker", "provider"]),
  lastMessage: z
    .object({
      content: z.string(),
      senderId: z.string(),
      timestamp: instant,
      masked: z.boolean(),
      deleted: z.boolean(),
      type: messageType,
      attachments: z.array(attachmentView),
    })
    .nullable(),
  unreadCount: count.describe("The caller's unread messages in this conversation."),
  isActive: z.boolean(),
  createdAt: instant,
  updatedAt: instant,
});

export const conversationsOutput = z.object({ conversations: z.array(conversationView), pagination });

export const messageView = z.object({
  status: z.enum(["sent", "delivered", "read"]),
  id: z.string(),
  conversationId: z.string(),
  seq: count,
  senderId: z.string(),
  receiverId: z.string(),
  content: z
    .string()
    .describe("Empty when deleted; contact details masked for the receiver until the job is completed."),
  type: messageType,
  attachments: z.array(attachmentView),
  editedAt: instant.nullable(),
  deletedAt: instant.nullable(),
  clientMessageId: z.string().nullable(),
  timestamp: instant,
  deliveredAt: instant.nullable(),
  read: z.boolean(),
  readAt: instant.nullable(),
  createdAt: instant,
  updatedAt: instant,
  masked: z.boolean(),
  maskedForReceiver: z.boolean(),
  edited: z.boolean(),
  deleted: z.boolean(),
});

export const messagesOutput = z.object({
  messages: z.array(messageView),
  pagination,
  nextCursor: z
    .string()
    .nullable()
    .describe("Pass as `before` to get the next older page; null at the beginning of the conversation."),
});

export const sentMessageOutput = z.object({
  messageId: z.string(),
  conversationId: z.string(),
  content: z.string(),
  timestamp: instant,
  seq: count,
  clientMessageId: z.string().nullable(),
  maskedForReceiver: z.boolean().describe("The receiver sees this message with contact details masked."),
  type: messageType,
  attachments: z.array(attachmentView),
});

export const markReadOutput = z.object({ conversationId: z.string(), readCount: count });

export const unreadCountOutput = z.object({ total: count });
