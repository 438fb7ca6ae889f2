import { z } from "zod";
import { hasDirectionOverride, hasVisibleText, id, isPlainLine } from "../schemas.ts";

export const createJobRequestInput = z.object({
  title: z
    .string()
    .trim()
    .min(3, "A title needs at least 3 characters.")
    .max(200, "A title can be at most 200 characters.")
    .refine(isPlainLine, "A title must be plain text on one line.")
    .refine(hasVisibleText, "A title needs some visible text.")
    .refine((title) => !hasDirectionOverride(title), "A title cannot contain direction overrides."),
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
