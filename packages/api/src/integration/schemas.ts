import { z } from "zod";
import { messageContent } from "../chat/schemas.ts";
import { createJobRequestInput, createOfferInput } from "../marketplace/schemas.ts";
import { id, isPlainLine } from "../schemas.ts";

/** The service API's bodies: strict (an unknown field is refused, so a typo never goes unnoticed). */

const displayName = z
  .string()
  .trim()
  .min(1, "A name cannot be empty.")
  .max(100, "A name can be at most 100 characters.")
  .refine(isPlainLine, "A name must be plain text on one line.");

const email = z.email("That is not an email address.").max(254);

const party = z.strictObject({ id, name: displayName, email: email.optional() });

export const openConversationBody = z
  .strictObject({
    offerId: id,
    jobRequestId: id,
    jobTitle: createJobRequestInput.shape.title,
    price: createOfferInput.shape.price,
    seeker: party,
    provider: party,
  })
  .refine((body) => body.seeker.id !== body.provider.id, {
    message: "The seeker and the provider must be two different users.",
    path: ["provider", "id"],
  });

export const upsertUserBody = z.strictObject({
  name: displayName.optional(),
  email: email.nullable().optional(),
  avatarUrl: z
    .url({ protocol: /^https$/, error: "An avatar must be an https:// URL." })
    .max(2_000)
    .nullable()
    .optional(),
});

export const systemMessageBody = z.strictObject({ content: messageContent });

export const deliveriesQuery = z.strictObject({
  status: z.enum(["pending", "delivered", "dead"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const pathId = id;
