/**
 * The text search sees: lower case; Arabic alef variants (أ إ آ ٱ) as ا, ta marbuta (ة) as ha (ه),
 * alef maqsura (ى) as ya (ي); Arabic-Indic (٠–٩) and Persian (۰–۹) digits as 0–9; tashkeel,
 * tatweel and invisible direction marks removed. The SQL function `naafe_search_normalize`
 * (prisma/migrations/*_message_search) does the same to indexed text; a test keeps them equal.
 */
const REPLACEMENTS = new Map<string, string>([
  ["أ", "ا"],
  ["إ", "ا"],
  ["آ", "ا"],
  ["ٱ", "ا"],
  ["ة", "ه"],
  ["ى", "ي"],
  ..."٠١٢٣٤٥٦٧٨٩".split("").map((digit, value): [string, string] => [digit, String(value)]),
  ..."۰۱۲۳۴۵۶۷۸۹".split("").map((digit, value): [string, string] => [digit, String(value)]),
]);

/** Tashkeel (U+064B–U+065F, U+0670), tatweel, zero-width and bidirectional controls, BOM. */
const REMOVED = /^[\u064B-\u065F\u0670\u0640\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]$/;

/** Normalised text and, for each of its UTF-16 units, the offset in the original it came from. */
export interface NormalizedText {
  text: string;
  /** `offsets[i]`: where unit `i` of `text` starts in the original; `offsets[text.length]` is its length. */
  offsets: number[];
}

export function normalizeWithOffsets(original: string): NormalizedText {
  let text = "";
  const offsets: number[] = [];
  let at = 0;
  for (const char of original) {
    if (!REMOVED.test(char)) {
      const replaced = REPLACEMENTS.get(char) ?? char.toLowerCase();
      text += replaced;
      for (let unit = 0; unit < replaced.length; unit++) offsets.push(at);
    }
    at += char.length;
  }
  offsets.push(original.length);
  return { text, offsets };
}

export const normalizeForSearch = (text: string) => normalizeWithOffsets(text).text;

/** At most this many words of a query are searched for. */
export const MAX_TERMS = 8;
/** Parts of words are matched (by trigrams) from this many characters. */
export const MIN_PARTIAL_LENGTH = 3;

/**
 * The words and numbers of a query, normalised: letters and digits only, so nothing a user types
 * can act as tsquery or LIKE syntax. Repeats dropped, at most `MAX_TERMS`.
 */
export function searchTerms(query: string): string[] {
  const words = normalizeForSearch(query)
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .map((word) => word.replace(/^\p{M}+/u, ""))
    .filter((word) => word.length > 0);
  return [...new Set(words)].slice(0, MAX_TERMS);
}

/** UTF-16 ranges of `content` where any of `terms` occurs (case and Arabic variants ignored), merged and in order. */
export function highlightRanges(content: string, terms: string[]): { start: number; end: number }[] {
  const { text, offsets } = normalizeWithOffsets(content);
  const found: { start: number; end: number }[] = [];
  for (const whole of terms) {
    // A word found only by its stem ("prices" in "price … pricing") is highlighted by its longest
    // prefix (down to 3 characters and 60 % of it) that occurs.
    let term = whole;
    const shortest = Math.max(MIN_PARTIAL_LENGTH, Math.ceil(whole.length * 0.6));
    while (term.length > shortest && !text.includes(term)) term = term.slice(0, -1);
    for (let at = text.indexOf(term); at !== -1; at = text.indexOf(term, at + term.length)) {
      const start = offsets[at] ?? 0;
      const end = offsets[at + term.length] ?? content.length;
      if (end > start) found.push({ start, end });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: { start: number; end: number }[] = [];
  for (const range of found) {
    const last = merged.at(-1);
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}
