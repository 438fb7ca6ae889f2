import { z } from "zod";
import { messageContent } from "../chat/schemas.ts";
import { id } from "../schemas.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/** A person's words (a reason, a note): trimmed, plain text, bounded. */
const freeText = (what: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min, `${what} needs at least ${min} characters.`)
    .refine((text) => [...text].length <= max, { message: `${what} can be at most ${max} characters.` })
    .refine((text) => text.isWellFormed() && !FORBIDDEN_CONTROL.test(text), {
      message: `${what} must be plain text.`,
    });

const limit = z.number().int().min(1).max(100).default(20);

export const userInput = z.object({ userId: id });

export const reportReasons = ["spam", "scam", "harassment", "off-platform", "inappropriate", "other"] as const;

export const reportInput = z.object({
  conversationId: id,
  /** The message reported; without it, the conversation's latest messages are kept. */
  messageId: id.optional(),
  reason: z.enum(reportReasons),
  note: freeText("A note", 1, 1000).optional(),
});

export const editMessageInput = z.object({ messageId: id, content: messageContent });

export const messageIdInput = z.object({ messageId: id });

export const onMessageChangedInput = z.object({
  conversationId: id,
  /** The last change id the client has; set by tRPC's wsLink when it reconnects. */
  lastEventId: id.nullish(),
});

export const setJobStatusInput = z.object({ jobRequestId: id, status: z.enum(["completed", "cancelled"]) });

export const reportsInput = z
  .object({ status: z.enum(["open", "resolved"]).default("open"), limit, cursor: id.optional() })
  .default({ status: "open", limit: 20 });

export const moderatorConversationInput = z.object({
  conversationId: id,
  /** Why the moderator reads it; the open reports on the conversation are recorded when absent. */
  reason: freeText("A reason", 3, 500).optional(),
  /** A seq: the messages before it (older pages). */
  beforeSeq: z.number().int().min(1).max(2_000_000_000).optional(),
  limit: z.number().int().min(1).max(200).default(100),
});

export const closeConversationInput = z.object({ conversationId: id, reason: freeText("A reason", 3, 500) });

export const suspendUserInput = z.object({
  userId: id,
  until: z.coerce.date().refine((date) => !Number.isNaN(date.getTime()), "`until` must be a date."),
  reason: freeText("A reason", 3, 500),
});

export const resolveReportInput = z.object({
  reportId: id,
  resolution: freeText("A resolution", 1, 1000).optional(),
  /** Tell both participants, in the conversation, that Naafe reviewed it (never who reported). */
  notifyParticipants: z.boolean().default(false),
});

export const auditLogInput = z
  .object({
    limit,
    before: z
      .string()
      .regex(/^\d{1,19}$/, "`before` is an audit entry id.")
      .optional(),
  })
  .default({ limit: 20 });
