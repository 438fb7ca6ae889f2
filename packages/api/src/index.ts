export { type AuthConfig, type AuthUser, bearerToken, signToken } from "./auth.ts";
export type {
  EventBus,
  InboxEvent,
  MessageEvent,
  MessagesDeliveredEvent,
  MessagesReadEvent,
  PresenceEvent,
  TypingEvent,
} from "./bus/event-bus.ts";
export { topics } from "./bus/event-bus.ts";
export { createMemoryBus } from "./bus/memory-bus.ts";
export { createRedisBus } from "./bus/redis-bus.ts";
export { createRedisPresenceStore } from "./bus/redis-presence-store.ts";
export { type Context, createContext, createServices, type Services, type ServicesOptions } from "./context.ts";
export { DomainError } from "./errors.ts";
export { type AppRouter, appRouter, createCaller } from "./root.ts";
export { MESSAGE_MAX_LENGTH } from "./schemas/index.ts";
export type { MessageStatus } from "./services/chat-service.ts";
export {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimit,
  type RateLimiter,
} from "./services/rate-limiter.ts";
