// @vitest-environment happy-dom
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, it } from "vitest";
import { describeError } from "../../describe-error.ts";
import { formatTime } from "../chat/format-time.ts";
import { describePresence } from "../chat/presence.ts";
import { ar } from "./ar.ts";
import { en } from "./en.ts";
import { chooseLanguage, currentLanguage, i18n } from "./i18n.ts";
import { intlLocaleFor, LANGUAGE_KEY, pickLanguage } from "./language.ts";

const PLURAL = /_(zero|one|two|few|many|other)$/;

/** Every key of a catalog, plural forms folded into their base key. */
function keys(catalog: object, prefix = ""): Set<string> {
  const found = new Set<string>();
  for (const [key, value] of Object.entries(catalog)) {
    const path = `${prefix}${key.replace(PLURAL, "")}`;
    if (typeof value === "object" && value !== null) for (const inner of keys(value, `${path}.`)) found.add(inner);
    else found.add(path);
  }
  return found;
}

afterEach(() => {
  chooseLanguage(null);
  localStorage.clear();
});

describe("catalogs", () => {
  it("Arabic has every English string, and nothing English lacks", () => {
    expect([...keys(ar)].sort()).toEqual([...keys(en)].sort());
  });

  it("Arabic plurals use the six forms, chosen by the library", () => {
    const t = i18n.getFixedT("ar");
    const forms = [0, 1, 2, 3, 11, 100].map((count) => t("list.unread", { count }));
    expect(new Set(forms).size).toBe(6);
    expect(forms[1]).toBe("رسالة واحدة غير مقروءة");
    expect(forms[2]).toBe("رسالتان غير مقروءتين");
    // 3–10 take the plural noun, 11–99 the singular: "3 رسائل" but "11 رسالة".
    expect(forms[3]).toBe("3 رسائل غير مقروءة");
    expect(forms[4]).toBe("11 رسالة غير مقروءة");
    expect(i18n.getFixedT("en")("list.unread", { count: 1 })).toBe("1 unread message");
    expect(i18n.getFixedT("en")("list.unread", { count: 11 })).toBe("11 unread messages");
  });
});

describe("picking the language", () => {
  it("follows the browser unless a language was chosen; the URL wins for one visit", () => {
    expect(pickLanguage({ urlParameter: null, stored: null, browser: ["ar-EG", "en"] })).toBe("ar");
    expect(pickLanguage({ urlParameter: null, stored: "en", browser: ["ar-EG"] })).toBe("en");
    expect(pickLanguage({ urlParameter: "ar", stored: "en", browser: ["en"] })).toBe("ar");
    expect(pickLanguage({ urlParameter: null, stored: null, browser: ["fr-FR", "ar"] })).toBe("ar");
  });

  it("falls back safely on an unknown or malformed locale in the URL, in storage or from the browser", () => {
    for (const junk of ["xx", "klingon", "", "ar-", "__proto__", "<script>", "AR"]) {
      expect(pickLanguage({ urlParameter: junk, stored: junk, browser: ["en-GB"] })).toBe("en");
    }
    expect(pickLanguage({ urlParameter: "zz", stored: "zz", browser: ["zz", "@@"] })).toBe("en");
    expect(intlLocaleFor("ar", ["not a locale!!", "ar-MA"])).toBe("ar-MA");
    expect(intlLocaleFor("ar", ["en"])).toBe("ar");
  });

  it("a choice is applied to the document (lang, dir) and remembered; clearing it follows the browser again", () => {
    chooseLanguage("ar");
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe("ar");
    expect(document.documentElement.lang).toBe("ar");
    expect(document.documentElement.dir).toBe("rtl");
    chooseLanguage(null);
    expect(localStorage.getItem(LANGUAGE_KEY)).toBeNull();
    expect(currentLanguage()).toBe("en");
    expect(document.documentElement.dir).toBe("ltr");
  });
});

describe("formatting in the person's locale", () => {
  const now = new Date(2026, 2, 10, 12, 0);

  it("writes times and relative times in Arabic, with the digits of the locale (Arabic-Indic in Egypt, Latin in Morocco)", () => {
    const lastSeen = new Date(now.getTime() - 5 * 60_000);
    expect(describePresence({ online: false, lastSeen }, now, "ar-EG")).toBe("آخر ظهور قبل ٥ دقائق");
    expect(describePresence({ online: false, lastSeen }, now, "ar-MA")).toBe("آخر ظهور قبل 5 دقائق");
    expect(describePresence({ online: false, lastSeen }, now, "en")).toBe("last seen 5 minutes ago");
    expect(formatTime(new Date(2026, 2, 10, 9, 5), now, "ar-EG")).toMatch(/٠٩:٠٥/);
  });

  it("counts in the plural sentences use the same locale as the dates", () => {
    const languages = Object.getOwnPropertyDescriptor(Navigator.prototype, "languages");
    Object.defineProperty(navigator, "languages", { configurable: true, get: () => ["ar-EG"] });
    try {
      chooseLanguage("ar");
      expect(i18n.t("list.unread", { count: 11 })).toBe("١١ رسالة غير مقروءة");
    } finally {
      Reflect.deleteProperty(navigator, "languages");
      if (languages) Object.defineProperty(Navigator.prototype, "languages", languages);
    }
  });
});

describe("server errors", () => {
  const apiError = (message: string, data: Record<string, unknown>) =>
    new TRPCClientError(message, { result: { error: { message, code: -32000, data } } });

  it("are translated by code: no English sentence reaches someone reading Arabic", () => {
    chooseLanguage("ar");
    const forbidden = apiError("You are not a participant in this conversation.", { code: "FORBIDDEN" });
    expect(describeError(forbidden)).toBe("غير مسموح لك بذلك.");
    expect(describeError(apiError("slow", { code: "TOO_MANY_REQUESTS", retryAfter: 2 }))).toBe(
      "أنت ترسل بسرعة كبيرة. حاول مرة أخرى بعد ثانيتين.",
    );
    expect(describeError(apiError("fetch failed", {}))).toMatch(/^تعذّر/);
    for (const code of [
      "BAD_REQUEST",
      "NOT_FOUND",
      "CONFLICT",
      "UNAUTHORIZED",
      "INTERNAL_SERVER_ERROR",
      "SERVICE_UNAVAILABLE",
      "WHATEVER",
    ]) {
      expect(describeError(apiError("An English sentence.", { code }))).not.toMatch(/[A-Za-z]/);
    }
  });
});
