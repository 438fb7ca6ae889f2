import { useSyncExternalStore } from "react";

/** Where the person is, kept in the URL hash so a reload reopens the same conversation. */
export type Route = { name: "home" } | { name: "marketplace" } | { name: "conversation"; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  if (path === "marketplace") return { name: "marketplace" };
  const match = /^c\/(.+)$/.exec(path);
  if (match?.[1]) return { name: "conversation", id: decodeURIComponent(match[1]) };
  return { name: "home" };
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case "home":
      return "#/";
    case "marketplace":
      return "#/marketplace";
    case "conversation":
      return `#/c/${encodeURIComponent(route.id)}`;
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
