import { useMutation } from "@tanstack/react-query";
import { type KeyboardEvent, useId, useRef, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { useTRPC } from "../../trpc.ts";
import { formatFullTime } from "../chat/format-time.ts";
import { useLocale } from "../i18n/i18n.ts";
import { type MuteChoice, muteUntil } from "./push-device.ts";
import { useInvalidatePreferences, useMutes } from "./use-notifications.ts";

/** In a conversation's header: mute its push and email for 8 hours or until unmuted, or unmute. */
export function MuteControl({ conversationId }: { conversationId: string }) {
  const { t, locale } = useLocale();
  const trpc = useTRPC();
  const menuId = useId();
  const [open, setOpen] = useState(false);
  const mutes = useMutes();
  const invalidate = useInvalidatePreferences();
  const onSettled = () => invalidate();
  const mute = useMutation(trpc.chat.mute.mutationOptions({ onSettled }));
  const unmute = useMutation(trpc.chat.unmute.mutationOptions({ onSettled }));
  const busy = mute.isPending || unmute.isPending;
  const error = mute.error ?? unmute.error;
  const until = mutes.get(conversationId);

  const toggle = useRef<HTMLButtonElement>(null);
  const closeOnEscape = (event: KeyboardEvent) => {
    if (event.key !== "Escape") return;
    setOpen(false);
    toggle.current?.focus();
  };
  const choose = (choice: MuteChoice) => {
    setOpen(false);
    mute.mutate({ conversationId, until: muteUntil(choice, new Date()) });
  };

  return (
    <div className="mute-control">
      {mutes.has(conversationId) ? (
        <>
          <MutedMark decorative />
          <span className="muted small">
            {until
              ? t("notifications.mutedUntil", { time: formatFullTime(until, locale) })
              : t("notifications.mutedForever")}
          </span>
          <button
            type="button"
            className="button subtle"
            disabled={busy}
            onClick={() => unmute.mutate({ conversationId })}
          >
            {t("notifications.unmute")}
          </button>
        </>
      ) : (
        <>
          <button
            type="button"
            className="button subtle"
            ref={toggle}
            aria-expanded={open}
            aria-controls={menuId}
            disabled={busy}
            onClick={() => setOpen((isOpen) => !isOpen)}
            onKeyDown={closeOnEscape}
          >
            {t("notifications.mute")}
          </button>
          {open && (
            // biome-ignore lint/a11y/useSemanticElements: a group of two actions, not a form's fieldset
            <div id={menuId} className="mute-menu" role="group" aria-label={t("notifications.muteFor")}>
              <button type="button" className="button subtle" onClick={() => choose("8h")} onKeyDown={closeOnEscape}>
                {t("notifications.mute8h")}
              </button>
              <button
                type="button"
                className="button subtle"
                onClick={() => choose("forever")}
                onKeyDown={closeOnEscape}
              >
                {t("notifications.muteForever")}
              </button>
            </div>
          )}
        </>
      )}
      {error && (
        <p className="error small" role="alert">
          {describeError(error)}
        </p>
      )}
    </div>
  );
}

/** A crossed-out bell, named for screen readers (unless the text beside it says the same). */
export function MutedMark({ decorative = false }: { decorative?: boolean }) {
  const { t } = useLocale();
  const label = t("notifications.mutedLabel");
  return (
    <span
      className="muted-mark"
      {...(decorative ? { "aria-hidden": true } : { role: "img", "aria-label": label, title: label })}
    >
      <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
        <path
          d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0M4 4l16 16"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
    </span>
  );
}
