import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import { type EventOf, type RouterOutputs, useTRPC } from "../../trpc.ts";
import { currentLocale, i18n, languageOf } from "../i18n/i18n.ts";

export type Presence = Pick<EventOf<RouterOutputs["chat"]["onPresence"]>, "online" | "lastSeen">;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "online", "last seen 5 minutes ago", "last seen yesterday", "last seen on 3 Mar 2025", or "offline" when never seen. */
export function describePresence({ online, lastSeen }: Presence, now = new Date(), locale = currentLocale()): string {
  const t = i18n.getFixedT(languageOf(locale));
  if (online) return t("presence.online");
  if (!lastSeen) return t("presence.offline");
  const ago = Math.max(0, now.getTime() - lastSeen.getTime());
  if (ago < MINUTE) return t("presence.justNow");
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (ago < HOUR) return t("presence.ago", { ago: relative.format(-Math.floor(ago / MINUTE), "minute") });
  if (ago < DAY) return t("presence.ago", { ago: relative.format(-Math.floor(ago / HOUR), "hour") });
  if (ago < 7 * DAY) return t("presence.ago", { ago: relative.format(-Math.floor(ago / DAY), "day") });
  const date = lastSeen.toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
  return t("presence.on", { date });
}

/**
 * Whether the other participant is online, from `chat.onPresence` (current state first, then
 * changes). Undefined until known, and while the subscription is not connected, since the
 * last state heard may be out of date by then.
 */
export function usePresence(conversationId: string): Presence | undefined {
  const trpc = useTRPC();
  const { data, status } = useSubscription(trpc.chat.onPresence.subscriptionOptions({ conversationId }));
  return status === "pending" && data ? data : undefined;
}

/** The current time, renewed every `everyMs` while `enabled`: enough for "5 minutes ago" to stay true. */
export function useNow(everyMs: number, enabled = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!enabled) return;
    setNow(new Date());
    const timer = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, enabled]);
  return now;
}
