/** The languages the app is translated into; anything else falls back to English. */
export const LANGUAGES = ["en", "ar"] as const;
export type Language = (typeof LANGUAGES)[number];
export const FALLBACK_LANGUAGE: Language = "en";
/** Where a language the person chose is remembered (only a choice: the browser's is never stored). */
export const LANGUAGE_KEY = "naafe.lang";

const RIGHT_TO_LEFT = new Set<Language>(["ar"]);

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

export function directionOf(language: Language): "ltr" | "rtl" {
  return RIGHT_TO_LEFT.has(language) ? "rtl" : "ltr";
}

/** `ar-EG` → `ar`; an unknown or malformed tag → undefined. */
function baseLanguage(tag: string): Language | undefined {
  const base = tag.trim().toLowerCase().split(/[-_]/)[0];
  return isLanguage(base) ? base : undefined;
}

export interface LanguageSources {
  /** `?lang=ar` in the page's URL: for links into the app in a given language; not remembered. */
  urlParameter: string | null;
  /** What localStorage holds under `naafe.lang`, if anything (possibly garbage). */
  stored: string | null;
  /** `navigator.languages`, most preferred first. */
  browser: readonly string[];
}

/** The URL's language, else the one chosen before, else the browser's first we speak, else English. */
export function pickLanguage({ urlParameter, stored, browser }: LanguageSources): Language {
  if (isLanguage(urlParameter)) return urlParameter;
  if (isLanguage(stored)) return stored;
  for (const tag of browser) {
    const language = baseLanguage(tag);
    if (language) return language;
  }
  return FALLBACK_LANGUAGE;
}

/**
 * The locale for `Intl` (dates, numbers): the browser's own tag when it is a variant of the UI
 * language, so `ar-MA` keeps Latin digits and `ar-EG` gets Arabic-Indic ones; otherwise the
 * UI language itself.
 */
export function intlLocaleFor(language: Language, browser: readonly string[]): string {
  const match = browser.find((tag) => baseLanguage(tag) === language);
  if (!match) return language;
  try {
    return Intl.getCanonicalLocales(match)[0] ?? language;
  } catch {
    return language;
  }
}
