export { attachmentJobTypes, attachmentWorkers } from "./attachments/cleanup.ts";
export type { AttachmentOptions, Attachments, AttachmentView } from "./attachments/service.ts";
export { type AuthConfig, type AuthUser, bearerToken, signToken } from "./auth.ts";
export type { Conversations } from "./chat/conversations.ts";
export type { MessageStatus } from "./chat/messages.ts";
export { MESSAGE_MAX_LENGTH } from "./chat/schemas.ts";
export { type Context, createContext, createServices, type Services, type ServicesOptions } from "./context.ts";
export { DomainError, httpStatusOf } from "./errors.ts";
export { createServiceApi, serviceKeySchema } from "./integration/service-api.ts";
export { webhookUrlProblem } from "./integration/webhook-target.ts";
export { createWebhooks, type WebhookConfig, type Webhooks, webhookJobTypes } from "./integration/webhooks.ts";
export { closeAfterGraceJob } from "./moderation/closing.ts";
export {
  createMailer,
  createUnsubscribeLinks,
  type EmailConfig,
  type Mailer,
  type UnsubscribeLinks,
} from "./notifications/email.ts";
export {
  createPusher,
  generateVapidKeys,
  type PushConfig,
  type Pusher,
  pushEndpointProblem,
  type VapidKeys,
} from "./notifications/push.ts";
export { createNotifier, type Notifier, type NotifierConfig, notificationJobTypes } from "./notifications/rules.ts";
export { createMemoryViewing, createRedisViewing, type Viewing } from "./notifications/viewing.ts";
export type {
  EventBus,
  InboxEvent,
  MessageEvent,
  MessagesDeliveredEvent,
  MessagesReadEvent,
  PresenceEvent,
  TypingEvent,
} from "./platform/bus/event-bus.ts";
export { topics } from "./platform/bus/event-bus.ts";
export { createMemoryBus } from "./platform/bus/memory-bus.ts";
export { createRedisBus } from "./platform/bus/redis-bus.ts";
export {
  createJobQueue,
  defineJob,
  type JobQueue,
  type JobType,
  type JobWorker,
  PermanentJobError,
} from "./platform/jobs.ts";
export {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimit,
  type RateLimiter,
} from "./platform/limits.ts";
export { createRedisPresenceStore } from "./platform/redis-presence-store.ts";
export { type BlobStorage, createDiskStorage, createS3Storage } from "./platform/storage.ts";
export { type AppRouter, appRouter, createCaller } from "./root.ts";
export { contentTypes, type ExportService } from "./search/export.ts";
export { type ExportFormat, exportFormat } from "./search/schemas.ts";
export { type SigningKey, signingKeyFromPem } from "./search/transcript.ts";
