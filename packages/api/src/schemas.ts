import { z } from "zod";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/**
 * One line of real text: no control characters, no lone surrogates. PostgreSQL refuses NUL, and
 * would store a lone surrogate as U+FFFD, making two different keys equal.
 */
export const isPlainLine = (text: string) => text.isWellFormed() && !CONTROL.test(text);

/**
 * Direction overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what follows them:
 * they make "gpj.exe" read "exe.jpg" and a price read backwards. Plain marks (U+200E, U+200F)
 * and each message's own `dir="auto"` are what right-to-left text needs.
 */
const DIRECTION_OVERRIDE = /[\u202A-\u202E\u2066-\u2069]/;
export const hasDirectionOverride = (text: string) => DIRECTION_OVERRIDE.test(text);

/**
 * Characters that show nothing: spaces, format characters (zero-width, direction marks, tag
 * characters), variation selectors and the Hangul fillers often abused as blanks.
 */
const VISIBLE = /[^\s\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\p{Variation_Selector}]/u;
/** Whether something would be seen of `text`, not only blanks and invisible characters (a test, no copy). */
export const hasVisibleText = (text: string) => VISIBLE.test(text);

/** Ids are opaque strings (UUIDs here, ObjectIds in the seed). */
export const id = z
  .string()
  .trim()
  .min(1, "An id is required.")
  .max(100, "That id is too long.")
  .refine(isPlainLine, "An id must be plain text.");

export const page = z.number().int().min(1).max(1_000_000).default(1);
export const limit = z.number().int().min(1).max(100).default(20);

/**
 * A whole number that may also come as its decimal digits, as it does in a URL's query string
 * (the REST paths). Explicit, rather than left to the REST adapter, which would otherwise turn on
 * loose coercion (`true` → 1, `"0x10"` → 16) in the shared schema for every caller.
 */
const wholeNumber = (min: number, max: number, fallback: number) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^[0-9]{1,10}$/)
          .transform(Number),
      ],
      { error: "Expected a whole number." },
    )
    .pipe(z.number().int().min(min).max(max))
    // In /openapi.json: an integer query parameter (zod-openapi's `override`), not the union.
    .meta({
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        delete jsonSchema["anyOf"];
        Object.assign(jsonSchema, { type: "integer", minimum: min, maximum: max, default: fallback });
      },
    })
    .default(fallback);

/** `page` and `limit` of the inputs that are also REST queries. */
export const pageParam = wholeNumber(1, 1_000_000, 1);
export const limitParam = wholeNumber(1, 100, 20);
