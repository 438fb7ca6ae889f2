import { useSyncExternalStore } from "react";
import { useLocale } from "../i18n/i18n.ts";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "catching-up" | "offline";

function subscribeOnline(onChange: () => void) {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
}

/** Whether the browser believes it has a network at all (false is reliable, true is a hope). */
export function useOnline() {
  return useSyncExternalStore(subscribeOnline, () => navigator.onLine);
}

export function ConnectionStatus({ state }: { state: ConnectionState }) {
  const { t } = useLocale();
  return (
    <span className="connection" data-state={state} role="status" title={t(`connection.hint.${state}`)}>
      <span className="connection-dot" aria-hidden="true" />
      {t(`connection.${state}`)}
    </span>
  );
}
