import { z } from "zod";
import { id } from "../schemas.ts";
import { searchTerms } from "./normalize-arabic.ts";

export const SEARCH_QUERY_MAX_LENGTH = 200;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

export const searchInput = z.object({
  /** Words, numbers or parts of them; Arabic and English, in any mix. */
  query: z
    .string()
    .max(SEARCH_QUERY_MAX_LENGTH * 4, `A search can be at most ${SEARCH_QUERY_MAX_LENGTH} characters.`)
    .transform((text) => text.trim())
    .pipe(
      z
        .string()
        .min(1, "Type something to search for.")
        .refine((text) => text.isWellFormed(), "A search must be valid Unicode text.")
        .refine((text) => !CONTROL.test(text), "A search cannot contain control characters.")
        .refine(
          (text) => [...text].length <= SEARCH_QUERY_MAX_LENGTH,
          `A search can be at most ${SEARCH_QUERY_MAX_LENGTH} characters.`,
        )
        .refine((text) => [...text].length >= 2, "Type at least 2 characters to search.")
        .refine((text) => searchTerms(text).length > 0, "Search for at least one word or number."),
    ),
  /** Only this conversation (the caller's own). */
  conversationId: id.optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(500, "That cursor is not valid.").optional(),
  limit: z.number().int().min(1).max(50).default(20),
});

export type SearchInput = z.infer<typeof searchInput>;

export const EXPORT_FORMATS = ["jsonl", "csv", "html"] as const;
export const exportFormat = z.enum(EXPORT_FORMATS, { error: "format must be jsonl, csv or html" });
export type ExportFormat = z.infer<typeof exportFormat>;
