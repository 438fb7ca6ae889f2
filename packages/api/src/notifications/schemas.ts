import { z } from "zod";
import { id, isPlainLine } from "../schemas.ts";

const base64url = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url");

const endpoint = z
  .string()
  .max(1000, "That push endpoint is too long.")
  .refine(isPlainLine, "A push endpoint must be a URL in plain text.");

/** A browser's `PushSubscription.toJSON()`. */
export const pushSubscriptionInput = z.object({
  endpoint,
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: base64url, auth: base64url }),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionInput>;

export const registerPushInput = z.object({ subscription: pushSubscriptionInput });
export const unregisterPushInput = z.object({ endpoint });

export const updatePreferencesInput = z
  .object({ push: z.boolean().optional(), email: z.boolean().optional() })
  .refine((input) => input.push !== undefined || input.email !== undefined, "Say what to change: push or email.");
export type UpdatePreferencesInput = z.infer<typeof updatePreferencesInput>;

export const setVisibleInput = z.object({ visible: z.boolean() });

/** The longest a mute with an end may last; without `until` it lasts until unmuted. */
export const MAX_MUTE_MS = 366 * 24 * 3600 * 1000;

export const muteInput = z.object({ conversationId: id, until: z.coerce.date().optional() });
export type MuteInput = z.infer<typeof muteInput>;

export const unmuteInput = z.object({ conversationId: id });
