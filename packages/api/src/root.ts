import { authRouter } from "./routers/auth.ts";
import { chatRouter } from "./routers/chat.ts";
import { jobRequestRouter, offerRouter } from "./routers/marketplace.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  chat: chatRouter,
  jobRequest: jobRequestRouter,
  offer: offerRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
