import { type EventBus, type Publish, type TypingEvent, topics } from "./bus/event-bus.ts";
import { DEADLINE, listen, withDeadline } from "./bus/listen.ts";

export interface TypingOptions {
  /** A "typing" not renewed within this long is over (the typist may have vanished). */
  expireMs: number;
  /** The same state from the same user is passed on at most this often; must stay well below `expireMs`. */
  throttleMs: number;
}

export const defaultTypingOptions: TypingOptions = { expireMs: 6_000, throttleMs: 2_000 };

interface TypingDeps {
  bus: EventBus;
  options?: Partial<TypingOptions> | undefined;
  publish: Publish;
}

export type TypingService = ReturnType<typeof createTypingService>;

/**
 * Typing indicators: ephemeral (never stored), throttled per user and conversation, and
 * expiring on the watching side, so a client that vanishes mid-sentence cannot leave
 * "typing…" on the other screen. The throttle state is per process: a client whose calls
 * land on several instances gets a few more events through, which is harmless.
 */
export function createTypingService({ bus, options, publish }: TypingDeps) {
  const { expireMs, throttleMs } = { ...defaultTypingOptions, ...options };
  /** Per user and conversation, the last state passed on and when. */
  const lastSent = new Map<string, { isTyping: boolean; at: number }>();

  function forgetStale(now: number) {
    for (const [key, sent] of lastSent) if (now - sent.at >= Math.max(expireMs, throttleMs)) lastSent.delete(key);
  }

  const keyOf = (userId: string, conversationId: string) => `${userId}\u0000${conversationId}`;

  /** Passes the state on unless it repeats the last one within `throttleMs`; answers whether it did. */
  function set(userId: string, conversationId: string, isTyping: boolean): boolean {
    const key = keyOf(userId, conversationId);
    const now = Date.now();
    const last = lastSent.get(key);
    if (last && last.isTyping === isTyping && now - last.at < throttleMs) return false;
    if (lastSent.size >= 10_000) forgetStale(now);
    lastSent.set(key, { isTyping, at: now });
    const event: TypingEvent = { conversationId, userId, isTyping };
    publish(topics.typing(conversationId), event);
    return true;
  }

  return {
    expireMs,
    set,

    /**
     * The user sent a message in the conversation: if they were typing (as far as this process
     * passed on), they have stopped, and the other screen need not wait for the expiry. Not
     * typing, nothing is published: a send must not cost a second event.
     */
    sent(userId: string, conversationId: string) {
      if (lastSent.get(keyOf(userId, conversationId))?.isTyping) set(userId, conversationId, false);
    },

    /**
     * What `viewerId` should see of the others typing in a conversation: changes only (renewals
     * are absorbed), and `isTyping: false` once a "typing" goes `expireMs` without renewal.
     */
    async watch(conversationId: string, viewerId: string, signal: AbortSignal | undefined) {
      const live = await listen(bus, topics.typing(conversationId), signal);
      const expiresAt = new Map<string, number>();
      const nextExpiry = () => (expiresAt.size > 0 ? Math.min(...expiresAt.values()) : null);

      return (async function* (): AsyncGenerator<TypingEvent> {
        for await (const item of withDeadline(live, nextExpiry)) {
          if (item === DEADLINE) {
            const now = Date.now();
            for (const [userId, at] of expiresAt) {
              if (at > now) continue;
              expiresAt.delete(userId);
              yield { conversationId, userId, isTyping: false };
            }
            continue;
          }
          if (item.userId === viewerId) continue; // one's own typing is not news, even from another device
          const wasTyping = expiresAt.has(item.userId);
          if (item.isTyping) expiresAt.set(item.userId, Date.now() + expireMs);
          else expiresAt.delete(item.userId);
          if (wasTyping !== item.isTyping) yield item;
        }
      })();
    },
  };
}
