import { useId } from "react";
import { useLocale } from "../i18n/i18n.ts";
import { dismissPrompt, usePromptSession } from "./prompt-session.ts";
import { shouldOffer } from "./push-device.ts";
import { usePreferences, usePushDevice } from "./use-notifications.ts";

/**
 * "Get a notification when they answer": offered once the person sent a message this session,
 * never on load. The browser's own permission question comes only from the click on "Enable".
 */
export function NotificationPrompt() {
  const { t } = useLocale();
  const id = useId();
  const session = usePromptSession();
  const preferences = usePreferences();
  const device = usePushDevice();
  const offered =
    device.state !== undefined &&
    shouldOffer({ ...session, pushOn: preferences.data?.push ?? false, state: device.state });
  // After a failed attempt the prompt stays to say why, until "Not now".
  if (session.dismissed || !(offered || device.problem)) return null;
  return (
    <aside className="notification-prompt" aria-labelledby={id}>
      <p id={id}>{t("notifications.promptText")}</p>
      {device.problem && (
        <p className="error small" role="alert">
          {device.problem}
        </p>
      )}
      <div className="notification-prompt-actions">
        {device.state === "off" && (
          <button type="button" className="button" disabled={device.busy} onClick={() => void device.enable()}>
            {t("notifications.enable")}
          </button>
        )}
        <button type="button" className="button subtle" onClick={dismissPrompt}>
          {t("notifications.notNow")}
        </button>
      </div>
    </aside>
  );
}
