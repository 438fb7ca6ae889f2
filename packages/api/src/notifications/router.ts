import type { TRPCRouterRecord } from "@trpc/server";
import { protectedProcedure } from "../trpc.ts";
import {
  muteInput,
  registerPushInput,
  setVisibleInput,
  unmuteInput,
  unregisterPushInput,
  updatePreferencesInput,
} from "./schemas.ts";

export const notificationsRouter = {
  /** Push and email on or off, where emails go, whether the server pushes (and its VAPID key), mutes. */
  preferences: protectedProcedure.query(async ({ ctx }) => {
    await ctx.readLimiter.take(ctx.user.id);
    return ctx.notifications.preferences(ctx.user.id);
  }),

  updatePreferences: protectedProcedure.input(updatePreferencesInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.notifications.updatePreferences(ctx.user.id, input);
  }),

  /** This device's web-push subscription (`PushSubscription.toJSON()` of the browser). */
  registerPush: protectedProcedure.input(registerPushInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.notifications.registerPush(ctx.user.id, input.subscription);
  }),

  unregisterPush: protectedProcedure.input(unregisterPushInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.notifications.unregisterPush(ctx.user.id, input.endpoint);
  }),

  /**
   * The app's page became visible or hidden. While hidden, this connection's open conversations
   * do not count as viewed, so their messages are pushed and emailed as if the user were away.
   */
  setVisible: protectedProcedure.input(setVisibleInput).mutation(async ({ ctx, input }) => {
    await ctx.readLimiter.take(ctx.user.id);
    ctx.notifications.setVisible(ctx.user.id, ctx.connectionId, input.visible);
    return { visible: input.visible };
  }),
} satisfies TRPCRouterRecord;

/** `chat.mute` / `chat.unmute`: no push or email about one conversation, for a while or until unmuted. */
export const muteProcedures = {
  mute: protectedProcedure.input(muteInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.notifications.mute(ctx.user.id, input);
  }),

  unmute: protectedProcedure.input(unmuteInput).mutation(async ({ ctx, input }) => {
    await ctx.writeLimiter.take(ctx.user.id);
    return ctx.notifications.unmute(ctx.user.id, input.conversationId);
  }),
} satisfies TRPCRouterRecord;
