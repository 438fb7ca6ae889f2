export { type AuthConfig, type AuthUser, bearerToken, signToken } from "./auth.ts";
export type { EventBus, InboxEvent, MessageEvent, MessagesReadEvent } from "./bus/event-bus.ts";
export { createMemoryBus } from "./bus/memory-bus.ts";
export { type Context, createContext, createServices, type Services, type ServicesOptions } from "./context.ts";
export { DomainError } from "./errors.ts";
export { type AppRouter, appRouter, createCaller } from "./root.ts";
export { MESSAGE_MAX_LENGTH } from "./schemas/index.ts";
