import { currentLocale } from "../i18n/i18n.ts";

const DAY = 24 * 60 * 60 * 1000;

/** Short and relative to now: "14:05" today, "Mon" this week, "3 Mar" this year, else "3 Mar 2024". */
export function formatTime(date: Date, now = new Date(), locale = currentLocale()): string {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const time = date.getTime();
  if (time >= startOfToday) return date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (time >= startOfToday - 6 * DAY) return date.toLocaleDateString(locale, { weekday: "short" });
  if (date.getFullYear() === now.getFullYear())
    return date.toLocaleDateString(locale, { day: "numeric", month: "short" });
  return date.toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
}

/** Full date and time, for a tooltip. */
export function formatFullTime(date: Date, locale = currentLocale()): string {
  return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}
