import i18next from "i18next";
import { initReactI18next, useTranslation } from "react-i18next";
import { ar } from "./ar.ts";
import { en } from "./en.ts";
import {
  directionOf,
  FALLBACK_LANGUAGE,
  intlLocaleFor,
  isLanguage,
  LANGUAGE_KEY,
  LANGUAGES,
  type Language,
  pickLanguage,
} from "./language.ts";

/** localStorage can be missing or throw (storage disabled, sandboxed frames): then nothing is remembered. */
function readStored(): string | null {
  try {
    return localStorage.getItem(LANGUAGE_KEY);
  } catch {
    return null;
  }
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

function initialLanguage(): Language {
  const urlParameter = typeof location === "undefined" ? null : new URLSearchParams(location.search).get("lang");
  return pickLanguage({ urlParameter, stored: readStored(), browser: browserLanguages() });
}

declare module "i18next" {
  interface CustomTypeOptions {
    resources: { translation: typeof en };
  }
}

export const i18n = i18next.createInstance();

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ar: { translation: ar } },
  lng: initialLanguage(),
  fallbackLng: FALLBACK_LANGUAGE,
  supportedLngs: LANGUAGES,
  // Catalogs are bundled: ready synchronously, so the first paint is already in the right language.
  initAsync: false,
  // React escapes what it renders; escaping here too would show `&amp;` in names.
  interpolation: { escapeValue: false },
});

// Numbers in sentences ("11 unread") in the same locale as dates: `ar-EG` writes ١١, `ar-MA` 11.
i18n.services.formatter?.add("number", (value: number, _language, options) =>
  new Intl.NumberFormat(currentLocale(), options as Intl.NumberFormatOptions).format(value),
);

/** The document follows the language: `lang` for screen readers and fonts, `dir` for the layout. */
function applyToDocument(language: string) {
  if (typeof document === "undefined" || !isLanguage(language)) return;
  document.documentElement.lang = language;
  document.documentElement.dir = directionOf(language);
}
applyToDocument(i18n.language);
i18n.on("languageChanged", applyToDocument);

export function currentLanguage(): Language {
  return isLanguage(i18n.language) ? i18n.language : FALLBACK_LANGUAGE;
}

/** The locale `Intl` formats dates and numbers with, for the current language. */
export function currentLocale(): string {
  return intlLocaleFor(currentLanguage(), browserLanguages());
}

/** A person's choice: applied now and remembered; `null` goes back to following the browser. */
export function chooseLanguage(language: Language | null) {
  try {
    if (language) localStorage.setItem(LANGUAGE_KEY, language);
    else localStorage.removeItem(LANGUAGE_KEY);
  } catch {
    // Storage refused: the choice holds for this page only.
  }
  void i18n.changeLanguage(language ?? pickLanguage({ urlParameter: null, stored: null, browser: browserLanguages() }));
}

/** Whether the language comes from the person's choice rather than the browser. */
export function hasChosenLanguage(): boolean {
  return isLanguage(readStored());
}

/** `t` plus the locale to format with; components re-render when the language changes. */
export function useLocale() {
  const { t, i18n: instance } = useTranslation();
  return { t, language: instance.language as Language, locale: currentLocale() };
}

/** The catalog language of an `Intl` locale (`ar-EG` → `ar`), English when we have no such catalog. */
export function languageOf(locale: string): Language {
  const base = locale.split("-")[0];
  return isLanguage(base) ? base : FALLBACK_LANGUAGE;
}
