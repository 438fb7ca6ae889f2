import { setFlagsFromString } from "node:v8";
import { type Backend, openTestDatabase } from "@naafe/db/testing";
import { signToken } from "./auth.ts";
import type { EventBus } from "./bus/event-bus.ts";
import { createMemoryBus } from "./bus/memory-bus.ts";
import { createContext, createServices, type ServicesOptions } from "./context.ts";
import { createCaller } from "./root.ts";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256";

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

  return {
    db,
    bus,
    services,
    as,
    connection,
    tokenFor,
    openConversation,
    async [Symbol.asyncDispose]() {
      await services.presence.close();
      await bus.close();
      await db.close();
    },
  };
}

/**
 * Whether V8 gave `a` and `b` one hidden class. Objects a hot path builds the same way should
 * share one; on Node 20, V8 built a new one for each object made as `{ ...spread, newKey }` once
 * the code had run some ten to twenty times (docs/performance.md): compare objects from later calls.
 */
export function sameHiddenClass(a: object, b: object): boolean {
  setFlagsFromString("--allow-natives-syntax");
  return new Function("a", "b", "return %HaveSameMap(a, b)")(a, b) as boolean;
}
