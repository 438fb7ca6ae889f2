import { createHash } from "node:crypto";
import { Agent } from "node:https";
import { isIP } from "node:net";
import webpush from "web-push";
import { badRequest } from "../errors.ts";
import { isPublicAddress, publicOnlyLookup } from "../integration/webhook-target.ts";
import type { PushSubscriptionInput } from "./schemas.ts";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact the push services may use. */
  subject: string;
}

export interface PushConfig {
  vapid: VapidKeys;
  /** Tests and development: endpoints on loopback and private addresses are allowed. */
  allowPrivateEndpoints: boolean;
  /** How long to wait for the push service. */
  timeoutMs: number;
  /** The HTTPS agent to reach push services with (tests: one that trusts their push service's certificate). */
  agent?: Agent | undefined;
}

/** Generates a VAPID key pair (base64url, as the web app's `applicationServerKey` wants the public one). */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}

/**
 * Why a push endpoint must not be used, or null. The server sends requests there, so it must
 * not be a way to reach internal addresses: HTTPS (web push is HTTPS-only) to a public name or
 * address; names that resolve to private addresses are refused again when connecting.
 */
export function pushEndpointProblem(endpoint: string, { allowPrivate }: { allowPrivate: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:") return "must be an https:// URL";
  if (url.username || url.password) return "must not carry credentials";
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) && !isPublicAddress(host)) return `points at a non-public address (${host})`;
  if (host === "localhost" || host.endsWith(".localhost")) return "points at this machine";
  return null;
}

export interface StoredSubscription {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** What the service worker shows; `url` is opened when the notification is clicked. */
export interface PushPayload {
  conversationId: string;
  title: string;
  body: string;
  unreadCount: number;
  url: string;
}

export type PushOutcome = "sent" | "gone";

/** A push service's answer that may succeed later (5xx, 429, timeout, connection refused). */
export class PushUnavailableError extends Error {
  override name = "PushUnavailableError";
}

/**
 * Web push through the `web-push` library: VAPID-signed, payload encrypted (aes128gcm) for the
 * subscription's keys, one `Topic` per conversation so a newer push replaces the older one.
 */
export function createPusher(config: PushConfig) {
  const agent =
    config.agent ??
    new Agent({ keepAlive: true, ...(config.allowPrivateEndpoints ? {} : { lookup: publicOnlyLookup }) });

  return {
    publicKey: config.vapid.publicKey,

    /** Checks a browser's subscription before it is stored. */
    validate(subscription: PushSubscriptionInput): StoredSubscription {
      const problem = pushEndpointProblem(subscription.endpoint, { allowPrivate: config.allowPrivateEndpoints });
      if (problem) throw badRequest(`The push endpoint ${problem}.`);
      return { endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth };
    },

    /** Sends one push; "gone" when the push service says the subscription no longer exists (404/410). */
    async send(subscription: StoredSubscription, payload: PushPayload): Promise<PushOutcome> {
      // Checked again: the rules may have tightened since the subscription was stored.
      const problem = pushEndpointProblem(subscription.endpoint, { allowPrivate: config.allowPrivateEndpoints });
      if (problem) return "gone";
      try {
        await webpush.sendNotification(
          { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
          JSON.stringify(payload),
          {
            vapidDetails: config.vapid,
            TTL: 24 * 3600,
            urgency: "normal",
            topic: topicOf(payload.conversationId),
            timeout: config.timeoutMs,
            agent,
          },
        );
        return "sent";
      } catch (error) {
        if (error instanceof webpush.WebPushError) {
          if (error.statusCode === 404 || error.statusCode === 410) return "gone";
          throw new PushUnavailableError(`The push service answered ${error.statusCode}.`, { cause: error });
        }
        throw new PushUnavailableError(`The push service could not be reached: ${describe(error)}`, {
          cause: error,
        });
      }
    },

    close() {
      agent.destroy();
    },
  };
}

export type Pusher = ReturnType<typeof createPusher>;

/** A push `Topic` (at most 32 URL-safe characters) per conversation: a newer push replaces the older. */
export function topicOf(conversationId: string): string {
  return createHash("sha256").update(conversationId).digest("base64url").slice(0, 32);
}

function describe(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}
