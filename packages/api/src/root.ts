import { authRouter } from "./auth-router.ts";
import { chatRouter } from "./chat/router.ts";
import { jobRequestRouter, offerRouter } from "./marketplace/router.ts";
import { moderationRouter } from "./moderation/router.ts";
import { notificationsRouter } from "./notifications/router.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  chat: chatRouter,
  jobRequest: jobRequestRouter,
  offer: offerRouter,
  moderation: moderationRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
