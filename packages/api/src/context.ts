import { randomUUID } from "node:crypto";
import type { Database } from "@naafe/db";
import { type AttachmentOptions, createAttachments } from "./attachments/service.ts";
import { type AuthConfig, type AuthUser, createTokenVerifier } from "./auth.ts";
import { createConversations } from "./chat/conversations.ts";
import { createMessages } from "./chat/messages.ts";
import { OwnSends } from "./chat/own-sends.ts";
import { createReceipts } from "./chat/receipts.ts";
import { DomainError } from "./errors.ts";
import { createMarketplaceService } from "./marketplace/service.ts";
import { createModerationService, type ModerationOptions } from "./moderation/service.ts";
import type { Pusher } from "./notifications/push.ts";
import { createNotificationsService } from "./notifications/service.ts";
import { createMemoryViewing, type Viewing } from "./notifications/viewing.ts";
import { type EventBus, publishBestEffort } from "./platform/bus/event-bus.ts";
import { createMemoryRateLimiter, type RateLimit, type RateLimiter } from "./platform/limits.ts";
import type { Outbox } from "./platform/outbox.ts";
import { createPresenceService, type PresenceOptions, type PresenceStore } from "./platform/presence.ts";
import { createTypingService, type TypingOptions } from "./platform/typing.ts";
import { createWriteTracker } from "./platform/write-tracker.ts";
import { createExportService } from "./search/export.ts";
import { createSearchService } from "./search/service.ts";
import { cursorKeyFrom, type SigningKey, signingKeyOrEphemeral } from "./search/transcript.ts";

export interface ServicesOptions {
  db: Pick<Database, "prisma" | "query" | "kind">;
  bus: EventBus;
  auth: AuthConfig;
  /** Demo sign-in as these seeded users, with tokens signed by `auth.secret`. Never in production. */
  demoUserIds?: string[] | undefined;
  /** Messages a user may send: a burst, then a steady rate. */
  sendLimit?: RateLimit | undefined;
  /** Typing events a user may send: a burst, then a steady rate. */
  typingLimit?: RateLimit | undefined;
  /** Other changes a user may make (job requests, offers): a burst, then a steady rate. */
  writeLimit?: RateLimit | undefined;
  /** Reads that cost the database (pages of messages or conversations, marking read). */
  readLimit?: RateLimit | undefined;
  /** Searches one user may run: a burst, then a steady rate. */
  searchLimit?: RateLimit | undefined;
  /** Exports one user may start: a burst, then a steady rate. */
  exportLimit?: RateLimit | undefined;
  /** Signs exported transcripts (and search cursors); a new key per process when absent. */
  signingKey?: SigningKey | undefined;
  /** Where the limits live: in memory by default; Redis shares them between instances. */
  createLimiter?: ((name: string, limit: RateLimit, what: string) => RateLimiter) | undefined;
  /** Shared presence across instances (Redis); in memory when absent. */
  presenceStore?: PresenceStore | undefined;
  presence?: Partial<PresenceOptions> | undefined;
  typing?: Partial<TypingOptions> | undefined;
  /** Contact masking, the edit window, closing after a job ends, and their rate limits. */
  moderation?: Partial<ModerationOptions> | undefined;
  now?: () => Date;
  /** Told when background work failed: a live event not published, a receipt not written. */
  onBackgroundError?: (error: unknown) => void;
  /** Record domain events for webhooks with the changes (only when webhooks are configured). */
  outbox?: Outbox | undefined;
  /** Where attachments are stored and how their links are signed; a private temporary folder when absent. */
  attachments?: Partial<AttachmentOptions> | undefined;
  /** Who views which conversation (Redis shares it between instances), web push, and whether email is on. */
  notifications?: { viewing?: Viewing | undefined; pusher?: Pusher | null; emailEnabled?: boolean } | undefined;
}

/** Everything the procedures need, built once per process. */
export function createServices(options: ServicesOptions) {
  const createLimiter = options.createLimiter ?? ((_name, limit, what) => createMemoryRateLimiter(limit, what));
  const { db, bus, now = () => new Date(), onBackgroundError: onError = () => {}, outbox } = options;
  const { prisma } = db;
  const publish = publishBestEffort(bus, onError);
  const conversations = createConversations({ prisma, contactMasking: options.moderation?.contactMasking });
  const receipts = createReceipts({ db, conversations, publish, now, onError, outbox });
  const messages = createMessages({ db, conversations, receipts, publish, now, outbox });
  const signingKey = options.signingKey ?? signingKeyOrEphemeral();
  const notifications = createNotificationsService({
    prisma,
    conversations,
    viewing: options.notifications?.viewing ?? createMemoryViewing(),
    pusher: options.notifications?.pusher ?? null,
    emailEnabled: options.notifications?.emailEnabled ?? false,
    now,
    onError,
  });
  const moderation = createModerationService({
    db,
    bus,
    chat: conversations,
    now,
    options: options.moderation,
    createLimiter,
    onPublishError: onError,
    outbox,
  });
  return {
    prisma,
    bus,
    chat: { conversations, messages, receipts },
    attachments: createAttachments({ db, conversations, now, options: options.attachments }),
    typing: createTypingService({ bus, publish, options: options.typing }),
    presence: createPresenceService({ publish, store: options.presenceStore, options: options.presence, onError }),
    marketplace: createMarketplaceService({ prisma, publish, conversations, outbox, now }),
    moderation,
    verifyToken: createTokenVerifier(options.auth),
    sendLimiter: createLimiter("send", options.sendLimit ?? { burst: 30, perSecond: 10 }, "sending"),
    typingLimiter: createLimiter("typing", options.typingLimit ?? { burst: 20, perSecond: 2 }, "typing"),
    writeLimiter: createLimiter("write", options.writeLimit ?? { burst: 30, perSecond: 5 }, "making changes"),
    readLimiter: createLimiter("read", options.readLimit ?? { burst: 120, perSecond: 40 }, "loading"),
    search: createSearchService({
      db,
      assertParticipant: conversations.assertParticipant,
      cursorKey: cursorKeyFrom(signingKey),
      view: moderation.viewText,
    }),
    exports: createExportService({ db, signingKey }),
    notifications,
    searchLimiter: createLimiter("search", options.searchLimit ?? { burst: 20, perSecond: 2 }, "searching"),
    exportLimiter: createLimiter("export", options.exportLimit ?? { burst: 5, perSecond: 0.1 }, "exporting"),
    writes: createWriteTracker(),
    demo: options.demoUserIds && options.auth.secret ? { userIds: options.demoUserIds, auth: options.auth } : null,
  };
}

export type Services = ReturnType<typeof createServices>;

export interface Context extends Services {
  user: AuthUser | null;
  /** Why the presented token was refused, reported when a procedure needs a user. */
  authError: DomainError | null;
  /** What this connection sent (a WebSocket's calls share one context), for `onMessage` with `echo: false`. */
  ownSends: OwnSends;
  /**
   * On a WebSocket: signs the open connection in again with a fresh token of the same user, so
   * it outlives the old token's expiry with its subscriptions intact (`auth.renew`).
   */
  renewSession?: (token: string) => AuthUser;
  /** This connection (a WebSocket's calls share one context), for what it views. */
  connectionId: string;
}

/** The caller's context from the bearer token they presented (or none). */
export function createContext(services: Services, token: string | null): Context {
  const ownSends = new OwnSends();
  const connectionId = randomUUID();
  if (!token) return { ...services, user: null, authError: null, ownSends, connectionId };
  try {
    return { ...services, user: services.verifyToken(token), authError: null, ownSends, connectionId };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ...services, user: null, authError: error, ownSends, connectionId };
  }
}
