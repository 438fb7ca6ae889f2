import type { Prisma } from "@naafe/db";
import { type Backend, openTestDatabase } from "@naafe/db/testing";
import { signToken } from "./auth.ts";
import { NAAFE } from "./chat/system-messages.ts";
import { createContext, createServices, type ServicesOptions } from "./context.ts";
import type { EventBus } from "./platform/bus/event-bus.ts";
import { createMemoryBus } from "./platform/bus/memory-bus.ts";
import { createCaller } from "./root.ts";

export { startWebhookReceiver } from "./integration/webhook-receiver.ts";
export { startMailServer, startPushService } from "./notifications/test-services.ts";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256";

/** The seq of "Offer accepted", the notice every conversation opens with: the participants' first message follows it. */
export const OPENING_SEQ = 1;

/** A router on a fresh database, with a caller per user; dispose it to drop everything. */
export async function createTestApp(backend: Backend, options: Partial<ServicesOptions> & { bus?: EventBus } = {}) {
  const db = await openTestDatabase(backend);
  const bus = options.bus ?? createMemoryBus();
  const services = createServices({
    db,
    bus,
    auth: { secret: TEST_SECRET },
    sendLimit: { burst: 10_000, perSecond: 10_000 },
    typingLimit: { burst: 10_000, perSecond: 10_000 },
    writeLimit: { burst: 10_000, perSecond: 10_000 },
    readLimit: { burst: 10_000, perSecond: 10_000 },
    ...options,
  });
  const tokenFor = (id: string, name = id) => signToken({ secret: TEST_SECRET }, { id, name });
  /**
   * A caller authenticated as `id` (anonymous with `null`, or with any raw `token`);
   * aborting `signal` stops its subscriptions.
   */
  const as = (id: string | null, options: { token?: string | null; signal?: AbortSignal } = {}) => {
    const token = options.token !== undefined ? options.token : id === null ? null : tokenFor(id);
    return createCaller(createContext(services, token), { signal: options.signal });
  };

  /** One connection of `id`: its callers share one context, as the calls over one WebSocket do. */
  const connection = (id: string) => {
    const ctx = createContext(services, tokenFor(id));
    return (options: { signal?: AbortSignal } = {}) => createCaller(ctx, { signal: options.signal });
  };

  /** Seeker posts a job, provider offers, seeker accepts: the seed's usage flow. */
  async function openConversation(seeker = "seeker", provider = "provider") {
    const job = await as(seeker).jobRequest.create({ title: "Fix the kitchen sink" });
    const offer = await as(provider).offer.create({ jobRequestId: job.id, price: 120 });
    const accepted = await as(seeker).offer.accept({ offerId: offer.id });
    return { job, offer, conversation: accepted.conversation };
  }

  /** How many stored messages the participants sent (`where` narrows it): Naafe's notices left out. */
  const countSent = (where: Prisma.MessageWhereInput = {}) =>
    db.prisma.message.count({ where: { AND: [where, { senderId: { not: NAAFE } }] } });

  return {
    db,
    bus,
    services,
    as,
    connection,
    tokenFor,
    openConversation,
    countSent,
    async [Symbol.asyncDispose]() {
      await services.presence.close();
      await services.moderation.close();
      await bus.close();
      await db.close();
    },
  };
}
