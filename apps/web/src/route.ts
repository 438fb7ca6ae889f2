import { useSyncExternalStore } from "react";

/** Where the person is, kept in the URL hash so a reload reopens the same conversation. */
export type Route =
  | { name: "home" }
  | { name: "marketplace" }
  | { name: "settings" }
  /** Naafe's moderators: the open reports, or one reported conversation (reading it is audited). */
  | { name: "moderation"; conversationId?: string }
  | {
      name: "conversation";
      id: string /** A message to scroll to and highlight (a search hit). */;
      messageId?: string;
    };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  if (path === "marketplace") return { name: "marketplace" };
  if (path === "settings") return { name: "settings" };
  if (path === "moderation") return { name: "moderation" };
  const moderated = /^moderation\/c\/([^/]+)$/.exec(path);
  if (moderated?.[1]) return { name: "moderation", conversationId: decodeURIComponent(moderated[1]) };
  const match = /^c\/([^/]+)(?:\/m\/([^/]+))?$/.exec(path);
  if (match?.[1]) {
    const id = decodeURIComponent(match[1]);
    return match[2]
      ? { name: "conversation", id, messageId: decodeURIComponent(match[2]) }
      : { name: "conversation", id };
  }
  return { name: "home" };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case "home":
      return "#/";
    case "marketplace":
      return "#/marketplace";
    case "settings":
      return "#/settings";
    case "moderation":
      return route.conversationId ? `#/moderation/c/${encodeURIComponent(route.conversationId)}` : "#/moderation";
    case "conversation":
      return `#/c/${encodeURIComponent(route.id)}${route.messageId ? `/m/${encodeURIComponent(route.messageId)}` : ""}`;
  }
}

export function navigate(route: Route) {
  window.location.hash = routeHref(route);
}

function subscribe(onChange: () => void) {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
