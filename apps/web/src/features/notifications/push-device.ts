import type { RouterOutputs } from "../../trpc.ts";

/**
 * This device's web push: what the browser supports and allows, and subscribing with the
 * server's VAPID key. The pure parts are exported for tests; the rest touches browser APIs.
 */

export type Preferences = RouterOutputs["notifications"]["preferences"];

/**
 * - `unsupported`: this browser (or this build, without a service worker) cannot receive push;
 * - `unavailable`: the server sends no push;
 * - `blocked`: the person refused notifications to this site (only the browser's settings undo it);
 * - `off`: not subscribed here, and it could be; `on`: this device receives push.
 */
export type DeviceState = "unsupported" | "unavailable" | "blocked" | "off" | "on";

export function deviceState(facts: {
  supported: boolean;
  serverKey: string | null;
  permission: NotificationPermission;
  subscribed: boolean;
}): DeviceState {
  if (!facts.supported) return "unsupported";
  if (!facts.serverKey) return "unavailable";
  if (facts.permission === "denied") return "blocked";
  return facts.subscribed && facts.permission === "granted" ? "on" : "off";
}

/** Whether to offer "enable notifications": after the person did something, once per session. */
export function shouldOffer(facts: { acted: boolean; dismissed: boolean; pushOn: boolean; state: DeviceState }) {
  return facts.acted && !facts.dismissed && facts.pushOn && facts.state === "off";
}

/** A VAPID public key (base64url) as the bytes `pushManager.subscribe` takes. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "="));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export interface PushSubscriptionInput {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/** `PushSubscription.toJSON()` in the shape `notifications.registerPush` takes, or null if incomplete. */
export function subscriptionInput(json: PushSubscriptionJSON): PushSubscriptionInput | null {
  const { endpoint, keys } = json;
  const p256dh = keys?.["p256dh"];
  const auth = keys?.["auth"];
  if (!endpoint || !p256dh || !auth) return null;
  return { endpoint, expirationTime: json.expirationTime ?? null, keys: { p256dh, auth } };
}

export type MuteChoice = "8h" | "forever";

/** When a mute chosen now ends; undefined: until unmuted. */
export function muteUntil(choice: MuteChoice, now: Date): Date | undefined {
  return choice === "8h" ? new Date(now.getTime() + 8 * 3_600_000) : undefined;
}

/** The conversations muted at `now`, each with when its mute ends (null: until unmuted). */
export function activeMutes(mutes: readonly { conversationId: string; until: Date | null }[], now: Date) {
  const active = new Map<string, Date | null>();
  for (const { conversationId, until } of mutes) {
    if (until === null || until.getTime() > now.getTime()) active.set(conversationId, until);
  }
  return active;
}

/** When the first of these timed mutes ends (epoch ms), or null when none has an end. */
export function nextEnd(mutes: ReadonlyMap<string, Date | null>): number | null {
  let next: number | null = null;
  for (const until of mutes.values()) {
    if (until && (next === null || until.getTime() < next)) next = until.getTime();
  }
  return next;
}

export function pushSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window &&
    window.isSecureContext
  );
}

/** How long to wait for the service worker to take charge before saying push cannot work here. */
const WORKER_WAIT_MS = 10_000;

/** The app's service worker registration, or null where there is none (development builds). */
export async function workerRegistration(waitMs = WORKER_WAIT_MS): Promise<ServiceWorkerRegistration | null> {
  if (!pushSupported()) return null;
  const existing = await navigator.serviceWorker.getRegistration();
  if (existing?.active) return existing;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), waitMs);
  });
  try {
    return await Promise.race([navigator.serviceWorker.ready, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await workerRegistration(0).catch(() => null);
  return (await registration?.pushManager.getSubscription().catch(() => null)) ?? null;
}

export type SubscribeOutcome =
  | { kind: "subscribed"; subscription: PushSubscription; input: PushSubscriptionInput }
  /** The person refused, or closed the browser's question without answering. */
  | { kind: "denied" | "dismissed" }
  /** No service worker in charge (push cannot work in this build or browser). */
  | { kind: "unsupported" }
  /** The browser's push service refused or is unreachable. */
  | { kind: "failed"; detail: string };

/** Asks the browser's permission (call it from a click) and subscribes this device. */
export async function subscribeDevice(vapidPublicKey: string): Promise<SubscribeOutcome> {
  if (!pushSupported()) return { kind: "unsupported" };
  const permission = await Notification.requestPermission();
  if (permission === "denied") return { kind: "denied" };
  if (permission !== "granted") return { kind: "dismissed" };
  const registration = await workerRegistration();
  if (!registration) return { kind: "unsupported" };
  try {
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(vapidPublicKey),
    });
    const input = subscriptionInput(subscription.toJSON());
    if (!input) {
      await subscription.unsubscribe().catch(() => {});
      return { kind: "failed", detail: "incomplete subscription" };
    }
    return { kind: "subscribed", subscription, input };
  } catch (error) {
    return { kind: "failed", detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}
