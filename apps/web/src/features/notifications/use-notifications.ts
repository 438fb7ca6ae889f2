import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import {
  activeMutes,
  currentSubscription,
  type DeviceState,
  deviceState,
  nextEnd,
  pushSupported,
  subscribeDevice,
} from "./push-device.ts";

export function usePreferences() {
  const trpc = useTRPC();
  return useQuery(trpc.notifications.preferences.queryOptions());
}

/** Muted conversations (id → end of the mute, null: until unmuted), from the preferences. */
export function useMutes(): Map<string, Date | null> {
  const preferences = usePreferences();
  const mutes = preferences.data?.mutes;
  // Bumped when the next mute ends, so it stops showing without a refetch.
  const [ended, setEnded] = useState(0);
  const active = useMemo(() => activeMutes(mutes ?? [], new Date(ended || Date.now())), [mutes, ended]);
  useEffect(() => {
    const next = nextEnd(active);
    if (next === null) return;
    // setTimeout holds at most ~24.8 days; a later end is looked at again then.
    const timer = setTimeout(() => setEnded(Date.now()), Math.min(next - Date.now() + 1, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [active]);
  return active;
}

export function useInvalidatePreferences() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useCallback(
    () => queryClient.invalidateQueries({ queryKey: trpc.notifications.preferences.queryKey() }),
    [queryClient, trpc],
  );
}

export interface PushDevice {
  /** Undefined while the browser is being asked what it has. */
  state: DeviceState | undefined;
  busy: boolean;
  /** A sentence about the last attempt that did not work, or null. */
  problem: string | null;
  enable(): Promise<boolean>;
  disable(): Promise<void>;
}

/** This device's push subscription: read from the browser, switched on or off here. */
export function usePushDevice(): PushDevice {
  const trpc = useTRPC();
  const { t } = useLocale();
  const preferences = usePreferences();
  const invalidate = useInvalidatePreferences();
  const register = useMutation(trpc.notifications.registerPush.mutationOptions());
  const unregister = useMutation(trpc.notifications.unregisterPush.mutationOptions());
  const [subscription, setSubscription] = useState<PushSubscription | null | undefined>(undefined);
  const [permission, setPermission] = useState<NotificationPermission>(() =>
    pushSupported() ? Notification.permission : "default",
  );
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    void currentSubscription().then((found) => current && setSubscription(found));
    return () => {
      current = false;
    };
  }, []);

  const serverKey = preferences.data?.vapidPublicKey ?? null;
  const supported = pushSupported();
  const state =
    (supported && subscription === undefined) || !preferences.data
      ? undefined
      : deviceState({ supported, serverKey, permission, subscribed: subscription != null });

  async function enable(): Promise<boolean> {
    if (!serverKey) return false;
    setBusy(true);
    setProblem(null);
    try {
      const outcome = await subscribeDevice(serverKey);
      if (pushSupported()) setPermission(Notification.permission);
      switch (outcome.kind) {
        case "subscribed":
          try {
            await register.mutateAsync({ subscription: outcome.input });
          } catch (error) {
            await outcome.subscription.unsubscribe().catch(() => {});
            setProblem(describeError(error));
            return false;
          }
          setSubscription(outcome.subscription);
          void invalidate();
          return true;
        case "denied":
          setProblem(t("notifications.blocked"));
          return false;
        case "dismissed":
          setProblem(t("notifications.notAnswered"));
          return false;
        case "unsupported":
          setProblem(t("notifications.unsupported"));
          return false;
        case "failed":
          console.warn("Push subscription failed:", outcome.detail);
          setProblem(t("notifications.subscribeFailed"));
          return false;
      }
    } finally {
      setBusy(false);
    }
  }

  async function disable() {
    if (!subscription) return;
    setBusy(true);
    setProblem(null);
    try {
      await unregister.mutateAsync({ endpoint: subscription.endpoint });
      await subscription.unsubscribe().catch(() => {});
      setSubscription(null);
      void invalidate();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  return { state, busy, problem, enable, disable };
}
