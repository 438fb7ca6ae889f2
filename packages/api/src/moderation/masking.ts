import { isValidPhoneNumber } from "libphonenumber-js/max";

/** What a masked contact detail is replaced with: none of its digits or letters survive. */
export const CONTACT_MASK = "•••";

/**
 * Replaces phone numbers, email addresses, links and messaging handles in `text` with
 * `CONTACT_MASK`. Built for people who try to get around a filter: Arabic-Indic digits (mixed
 * with Latin ones), digits split by spaces, dashes, dots or invisible characters, "at"/"dot"
 * spelled out. Prices, dates, times, quantities and ids are left alone.
 */
export function maskContacts(text: string): { text: string; masked: boolean } {
  if (!mightHoldContact(text)) return { text, masked: false };
  const normalized = normalize(text);
  const spans: Span[] = [...phoneSpans(blankNumbersThatAreNotPhones(normalized)), ...patternSpans(normalized)];
  if (spans.length === 0) return { text, masked: false };
  return { text: replaceSpans(text, spans), masked: true };
}

type Span = [start: number, end: number];

// Arabic-Indic (٠–٩) and Extended Arabic-Indic (۰–۹, Persian/Urdu) digits.
const ARABIC_DIGITS = /[\u0660-\u0669\u06F0-\u06F9]/g;
// Invisible characters used to split a number or an address so a filter misses it.
const INVISIBLE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const KEYWORDS =
  /\big\b|whats|wh?ats?app|wa\.me|واتس|وتس|telegram|tele?gram|تيليجرام|تليجرام|تلجرام|تيلجرام|insta|انستا|إنستا|انستجرام|snap|سناب|facebook|فيسبوك|فيس|fb|messenger|ماسنجر|viber|فايبر|signal|سيجنال|tiktok|تيك ?توك|twitter|تويتر|@|https?:|www|\.|\/|dot|دوت/i;

/** A cheap first look, so ordinary messages cost one pass of two regular expressions. */
function mightHoldContact(text: string) {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code >= 48 && code <= 57) || (code >= 0x660 && code <= 0x669) || (code >= 0x6f0 && code <= 0x6f9)) {
      if (++digits >= 7) return true;
    }
  }
  return KEYWORDS.test(text);
}

/**
 * Same length as `text` (so positions carry over): Latin digits for Arabic-Indic ones, a space
 * for each invisible character, lower case.
 */
function normalize(text: string) {
  return text
    .replace(ARABIC_DIGITS, (digit) => {
      const code = digit.charCodeAt(0);
      return String(code >= 0x6f0 ? code - 0x6f0 : code - 0x660);
    })
    .replace(INVISIBLE, " ")
    .toLowerCase();
}

function replaceSpans(text: string, spans: Span[]) {
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  for (const [start, end] of spans) {
    if (end <= at) continue;
    out += text.slice(at, Math.max(at, start));
    if (!out.endsWith(CONTACT_MASK)) out += CONTACT_MASK;
    at = end;
  }
  return out + text.slice(at);
}

// ---------------------------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------------------------

/**
 * Digit groups a person could read as one number: digits joined by at most three separators
 * (spaces, dashes, dots, brackets, commas, stars, underscores). A leading `+` counts.
 */
const DIGIT_RUN = /\+?\d(?:[\s\-.()\\,*_|·•]{0,3}\d)*/g;
const DIGIT_GROUP = /\d+/g;

/** Dates (31.12.2024, 2024-12-31), times (10:30) and formatted amounts (12,500 or 1500.50). */
const NOT_PHONES = [
  /(?<!\d)(?:(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:\d{4}|\d{2})|\d{4}[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01]))(?!\d)/g,
  /(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)/g,
  /(?<![\d,])\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?![\d,])/g,
  /(?<![\d.])\d+\.\d{1,2}(?![\d.])/g,
];

/** `text` with dates, times and amounts blanked out (same length), so they are never read as phone digits. */
function blankNumbersThatAreNotPhones(text: string) {
  let out = text;
  for (const pattern of NOT_PHONES) out = out.replace(pattern, (found) => "~".repeat(found.length));
  return out;
}

/** A run is a phone number, or holds one (a price glued to a number: "350 01001234567"). */
function phoneSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const run of text.matchAll(DIGIT_RUN)) {
    const start = run.index;
    // An id or a code ("JR2024…", "#4521", "v1.2.3"), not something to call.
    const before = text[start - 1] ?? "";
    const after = text[start + run[0].length] ?? "";
    if (/[a-z#]/.test(before) || /[a-z]/.test(after)) continue;
    const groups = [...run[0].matchAll(DIGIT_GROUP)].map((g) => ({ start: start + g.index, digits: g[0] }));
    const plus = run[0].startsWith("+");
    for (let i = 0; i < groups.length; i++) {
      for (let j = groups.length - 1; j >= i; j--) {
        const parts = groups.slice(i, j + 1).map((g) => g.digits);
        if (!isPhoneNumber(parts, plus && i === 0)) continue;
        const first = groups[i];
        const last = groups[j];
        if (!first || !last) continue;
        spans.push([first.start - (plus && i === 0 ? 1 : 0), last.start + last.digits.length]);
        i = j;
        break;
      }
    }
  }
  return spans;
}

/**
 * Egyptian numbers as people write them (01xxxxxxxxx, 1xxxxxxxxx, 02xxxxxxxx, +20…, 0020…),
 * and any valid international number with `+` or `00`, or long enough to carry a country code.
 */
function isPhoneNumber(parts: string[], plus: boolean) {
  const digits = parts.join("");
  if (digits.length < 8 || digits.length > 15) return false;
  if (plus) return isValidPhoneNumber(`+${digits}`);
  if (digits.startsWith("00")) return isValidPhoneNumber(`+${digits.slice(2)}`);
  if (!digits.startsWith("0") && !digits.startsWith("20")) {
    // Two amounts side by side ("15000-20000", "10000 or 12000") are a range, not a number.
    if (parts.length === 2 || parts.some((part) => part.length > 1 && part.endsWith("000"))) return false;
    // Without a trunk 0 or a country code, only a mobile number is distinctive enough (1x xxxx xxxx).
    if (/^1[0125]\d{8}$/.test(digits)) return true;
    return digits.length >= 11 && isValidPhoneNumber(`+${digits}`);
  }
  return isValidPhoneNumber(digits, "EG") || (digits.length >= 11 && isValidPhoneNumber(`+${digits}`));
}

// ---------------------------------------------------------------------------------------------
// Emails, links and handles
// ---------------------------------------------------------------------------------------------

const TLD = "com|net|org|eg|io|me|co|info|biz|link|ly|app|dev|xyz|shop|store|online|site|tech|sa|ae|uk|page|email";
const AT = String.raw`(?:\s*[@＠]\s*|\s*[([{]\s*at\s*[)\]}]\s*|\s+at\s+|\s*at\s*(?=gmail|yahoo|hotmail|outlook|icloud|live))`;
const DOT = String.raw`(?:\s*\.\s*|\s*[([{]\s*(?:dot|\.)\s*[)\]}]\s*|\s+dot\s+|\s*دوت\s*)`;
// In a bare domain a plain dot has no spaces around it ("Thanks. Me too" is no address).
const STRICT_DOT = String.raw`(?:\.|\s*[([{]\s*(?:dot|\.)\s*[)\]}]\s*|\s+dot\s+|\s*دوت\s*)`;
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";

const PATTERNS: RegExp[] = [
  // Email addresses, also spelled out: "omar at gmail dot com", "omar[at]gmail(dot)com".
  new RegExp(String.raw`[a-z0-9._%+-]+${AT}${LABEL}(?:${DOT}${LABEL})*${DOT}(?:${TLD})\b`, "gi"),
  // Links with a scheme or www.
  /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi,
  // Bare domains and short links: wa.me/…, t.me/…, instagram.com/…, bit.ly/…, "example dot com".
  new RegExp(String.raw`\b${LABEL}(?:${STRICT_DOT}${LABEL})*${STRICT_DOT}(?:${TLD})\b(?:/[^\s<>"']*)?`, "gi"),
  // @handles (not the @ of an email address, matched above).
  /(?<![a-z0-9._%+-])@[a-z0-9_](?:[a-z0-9_.]{1,29})/gi,
  // A handle named after its app: "insta: omar_designs", "تليجرام omar.fix", "snap is omar99".
  new RegExp(
    String.raw`(?<![a-z])(?:wh?ats?app|واتس(?:اب|آب)?|telegram|tele?gram|تيليجرام|تليجرام|تلجرام|تيلجرام|instagram|insta|ig|انستا|إنستا|انستجرام|snapchat|snap|سناب(?:شات)?|facebook|فيسبوك|fb|messenger|ماسنجر|viber|فايبر|signal|سيجنال|tiktok|تيك ?توك|twitter|تويتر|x\.com)` +
      String.raw`(?:\s*(?:id|handle|account|user(?:name)?|حسابي|اسمي|يوزر|ايدي))?(?<introducer>\s*[:=-]\s*|\s+(?:is|هو|عليه|على)\s+|\s+)` +
      "(?<handle>[a-z0-9_][a-z0-9_.]{2,29})",
    "gi",
  ),
];

function patternSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const pattern of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const handle = match.groups?.["handle"];
      // Without a ":" only a word that looks like a handle ("omar_99", not "tomorrow").
      const strong = /[:=-]/.test(match.groups?.["introducer"] ?? "");
      if (handle !== undefined && !strong && !/[\d_.]/.test(handle)) continue;
      if (handle !== undefined) {
        const start = match.index + match[0].length - handle.length;
        spans.push([start, start + handle.length]);
      } else {
        spans.push([match.index, match.index + match[0].length]);
      }
    }
  }
  return spans;
}

// ---------------------------------------------------------------------------------------------
// When to mask
// ---------------------------------------------------------------------------------------------

export const contactMaskingModes = ["always", "until-completed", "never"] as const;
export type ContactMaskingMode = (typeof contactMaskingModes)[number];

/** Whether messages of a conversation whose job is in `jobStatus` are masked for their receiver. */
export function masksContacts(mode: ContactMaskingMode, jobStatus: string): boolean {
  if (mode === "never") return false;
  if (mode === "always") return true;
  return jobStatus !== "completed";
}
