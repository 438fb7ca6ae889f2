import { useSyncExternalStore } from "react";

/**
 * When to offer "enable notifications": not on load (nobody knows yet why they would want them),
 * but once the person sent a message in this session, and not again after "Not now" (for the
 * rest of the tab's session).
 */

const DISMISSED_KEY = "naafe-chat.notifications-prompt";
let acted = false;
/** Where sessionStorage is unavailable, "Not now" lasts as long as the page. */
let dismissedInMemory = false;
const listeners = new Set<() => void>();

function readDismissed(): boolean {
  if (dismissedInMemory) return true;
  try {
    return sessionStorage.getItem(DISMISSED_KEY) === "dismissed";
  } catch {
    return false;
  }
}

let snapshot = { acted, dismissed: readDismissed() };

function update() {
  snapshot = { acted, dismissed: readDismissed() };
  for (const listener of listeners) listener();
}

/** The person sent a message: from now on, the prompt may show. */
export function noteMessageSent() {
  if (acted) return;
  acted = true;
  update();
}

/** "Not now": hidden until this tab's session ends. */
export function dismissPrompt() {
  try {
    sessionStorage.setItem(DISMISSED_KEY, "dismissed");
  } catch {
    dismissedInMemory = true;
  }
  update();
}

export function usePromptSession(): { acted: boolean; dismissed: boolean } {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => snapshot,
  );
}
