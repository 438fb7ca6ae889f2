import type { Database } from "@naafe/db";
import { type AuthConfig, type AuthUser, createTokenVerifier } from "./auth.ts";
import type { EventBus } from "./bus/event-bus.ts";
import { DomainError } from "./errors.ts";
import { createChatService } from "./services/chat-service.ts";
import { createMarketplaceService } from "./services/marketplace-service.ts";
import { OwnSends } from "./services/own-sends.ts";
import { createPresenceService, type PresenceOptions, type PresenceStore } from "./services/presence-service.ts";
import { createMemoryRateLimiter, type RateLimit, type RateLimiter } from "./services/rate-limiter.ts";
import { createTypingService, type TypingOptions } from "./services/typing-service.ts";

export interface ServicesOptions {
  db: Pick<Database, "prisma" | "query">;
  bus: EventBus;
  auth: AuthConfig;
  /** Demo sign-in as these seeded users, with tokens signed by `auth.secret`. Never in production. */
  demoUserIds?: string[] | undefined;
  /** Messages a user may send: a burst, then a steady rate. */
  sendLimit?: RateLimit | undefined;
  /** Typing events a user may send: a burst, then a steady rate. */
  typingLimit?: RateLimit | undefined;
  /** Where the limits live: in memory by default; Redis shares them between instances. */
  createLimiter?: ((name: string, limit: RateLimit, what: string) => RateLimiter) | undefined;
  /** Shared presence across instances (Redis); in memory when absent. */
  presenceStore?: PresenceStore | undefined;
  presence?: Partial<PresenceOptions> | undefined;
  typing?: Partial<TypingOptions> | undefined;
  now?: () => Date;
  onPublishError?: (error: unknown) => void;
}

/** Everything the procedures need, built once per process. */
export function createServices(options: ServicesOptions) {
  const createLimiter = options.createLimiter ?? ((_name, limit, what) => createMemoryRateLimiter(limit, what));
  const { db, bus, now, onPublishError } = options;
  const { prisma } = db;
  const chat = createChatService({ db, bus, now, onPublishError });
  return {
    prisma,
    bus,
    chat,
    typing: createTypingService({ bus, options: options.typing, onPublishError }),
    presence: createPresenceService({
      bus,
      store: options.presenceStore,
      options: options.presence,
      onError: onPublishError,
    }),
    marketplace: createMarketplaceService({ prisma, bus, chat }),
    verifyToken: createTokenVerifier(options.auth),
    sendLimiter: createLimiter("send", options.sendLimit ?? { burst: 30, perSecond: 10 }, "sending"),
    typingLimiter: createLimiter("typing", options.typingLimit ?? { burst: 20, perSecond: 2 }, "typing"),
    writes: createWriteTracker(),
    demo: options.demoUserIds && options.auth.secret ? { userIds: options.demoUserIds, auth: options.auth } : null,
  };
}

export type Services = ReturnType<typeof createServices>;

/**
 * Counts the mutations in flight, for a graceful shutdown. A counter and one shared callback, so
 * a write allocates nothing here: tsx (which runs the server) names every arrow function it
 * compiles with `Object.defineProperty`, which turned a closure made per write into a slow
 * dictionary object each time.
 */
export function createWriteTracker() {
  let inFlight = 0;
  let whenIdle: (() => void)[] = [];
  const finished = () => {
    if (--inFlight > 0) return;
    const waiting = whenIdle;
    whenIdle = [];
    for (const wake of waiting) wake();
  };
  return {
    track<T>(write: Promise<T>): Promise<T> {
      inFlight++;
      write.then(finished, finished);
      return write;
    },
    /** Resolves once no write is in flight. */
    async drain() {
      while (inFlight > 0) await new Promise<void>((resolve) => whenIdle.push(resolve));
    },
  };
}

export interface Context extends Services {
  user: AuthUser | null;
  /** Why the presented token was refused, reported when a procedure needs a user. */
  authError: DomainError | null;
  /** What this connection sent (a WebSocket's calls share one context), for `onMessage` with `echo: false`. */
  ownSends: OwnSends;
}

/** The caller's context from the bearer token they presented (or none). */
export function createContext(services: Services, token: string | null): Context {
  const ownSends = new OwnSends();
  // The services last: built as `{ ...services, user }`, each connection's context got a hidden
  // class of its own on Node 20, and every `ctx.` read in the procedures went megamorphic.
  if (!token) return { user: null, authError: null, ownSends, ...services };
  try {
    return { user: services.verifyToken(token), authError: null, ownSends, ...services };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { user: null, authError: error, ownSends, ...services };
  }
}
