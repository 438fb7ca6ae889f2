import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import type { DeviceState } from "./push-device.ts";
import { useMutes, usePreferences, usePushDevice } from "./use-notifications.ts";

/** Push and email digests on or off, and whether this device receives push. */
export function NotificationSettings() {
  const { t } = useLocale();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const headingId = useId();
  const preferences = usePreferences();
  const mutes = useMutes();
  const update = useMutation(
    trpc.notifications.updatePreferences.mutationOptions({
      onSuccess(result) {
        queryClient.setQueryData(trpc.notifications.preferences.queryKey(), (old) => old && { ...old, ...result });
      },
    }),
  );

  return (
    <section className="notification-settings" aria-labelledby={headingId}>
      <h3 id={headingId}>{t("notifications.heading")}</h3>
      {preferences.isPending && <p className="muted">{t("notifications.loading")}</p>}
      {preferences.isError && (
        <p className="error" role="alert">
          {describeError(preferences.error)}
        </p>
      )}
      {preferences.data && (
        <>
          <div className="setting">
            <PreferenceToggle
              name="push"
              label={t("notifications.push")}
              saved={preferences.data.push}
              disabled={!preferences.data.pushAvailable}
              save={(on) => update.mutateAsync({ push: on })}
            />
            <p className="muted small">
              {t(preferences.data.pushAvailable ? "notifications.pushHint" : "notifications.pushUnavailable")}
            </p>
          </div>
          <div className="setting">
            <PreferenceToggle
              name="email"
              label={t("notifications.email")}
              saved={preferences.data.email}
              disabled={!preferences.data.emailAvailable}
              save={(on) => update.mutateAsync({ email: on })}
            />
            <p className="muted small">
              {!preferences.data.emailAvailable ? (
                t("notifications.emailUnavailable")
              ) : preferences.data.emailAddress ? (
                <>
                  {t("notifications.emailTo")} <bdi dir="auto">{preferences.data.emailAddress}</bdi>
                </>
              ) : (
                t("notifications.noEmailAddress")
              )}
            </p>
          </div>
          {update.isError && (
            <p className="error" role="alert">
              {describeError(update.error)}
            </p>
          )}
          {preferences.data.pushAvailable && <ThisDevice />}
          <p className="muted small">{t("notifications.mutedCount", { count: mutes.size })}</p>
        </>
      )}
    </section>
  );
}

/** A checkbox that shows the new choice at once, and goes back to the saved one if saving fails. */
function PreferenceToggle(props: {
  name: string;
  label: string;
  saved: boolean;
  disabled: boolean;
  save: (on: boolean) => Promise<unknown>;
}) {
  const [shown, setShown] = useState(props.saved);
  const [saving, setSaving] = useState(false);
  useEffect(() => setShown(props.saved), [props.saved]);
  return (
    <label>
      <input
        type="checkbox"
        name={props.name}
        checked={shown}
        disabled={props.disabled || saving}
        onChange={(event) => {
          const on = event.target.checked;
          setShown(on);
          setSaving(true);
          props
            .save(on)
            .catch(() => setShown(props.saved))
            .finally(() => setSaving(false));
        }}
      />
      {props.label}
    </label>
  );
}

const STATE_TEXT = {
  unsupported: "notifications.deviceUnsupported",
  unavailable: "notifications.pushUnavailable",
  blocked: "notifications.deviceBlocked",
  off: "notifications.deviceOff",
  on: "notifications.deviceOn",
} as const satisfies Record<DeviceState, string>;

function ThisDevice() {
  const { t } = useLocale();
  const device = usePushDevice();
  return (
    <div className="setting push-device" data-state={device.state}>
      <h4>{t("notifications.thisDevice")}</h4>
      <p role="status">{device.state ? t(STATE_TEXT[device.state]) : t("notifications.checking")}</p>
      {device.state === "off" && (
        <button type="button" className="button" disabled={device.busy} onClick={() => void device.enable()}>
          {t("notifications.enable")}
        </button>
      )}
      {device.state === "on" && (
        <button type="button" className="button subtle" disabled={device.busy} onClick={() => void device.disable()}>
          {t("notifications.disableDevice")}
        </button>
      )}
      {/* Blocked: the state above already says what to do. */}
      {device.problem && device.state !== "blocked" && (
        <p className="error" role="alert">
          {device.problem}
        </p>
      )}
    </div>
  );
}
