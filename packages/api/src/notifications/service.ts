import type { Database } from "@naafe/db";
import type { AuthUser } from "../auth.ts";
import type { Conversations } from "../chat/conversations.ts";
import { badRequest } from "../errors.ts";
import type { Pusher } from "./push.ts";
import { MAX_MUTE_MS, type MuteInput, type PushSubscriptionInput, type UpdatePreferencesInput } from "./schemas.ts";
import type { Viewing } from "./viewing.ts";

/** Devices one user may register for push; registering another forgets the oldest. */
export const MAX_PUSH_DEVICES = 10;
/** Mutes `preferences` lists, newest first. */
export const MAX_LISTED_MUTES = 200;

export interface NotificationsServiceDeps {
  prisma: Database["prisma"];
  conversations: Pick<Conversations, "assertParticipant">;
  viewing: Viewing;
  /** Null when web push is off on this server. */
  pusher: Pusher | null;
  /** Whether this server sends email digests. */
  emailEnabled: boolean;
  now: () => Date;
  onError: (error: unknown) => void;
}

/** What a user chooses about notifications, and what the app reports (visibility, sign-in). */
export function createNotificationsService(deps: NotificationsServiceDeps) {
  const { prisma, conversations, viewing, pusher, now, onError } = deps;
  /** The address last remembered per user in this process, so a reconnect writes nothing. */
  const remembered = new Map<string, string>();

  async function preferencesOf(userId: string) {
    const row = await prisma.notificationPreference.findUnique({ where: { userId } });
    return { push: row?.push ?? true, email: row?.email ?? true };
  }

  return {
    /**
     * A signed-in connection: the token's `email` claim is remembered (digests go there), and
     * what the connection viewed is forgotten when it closes (call the result).
     */
    connected(user: AuthUser, connectionId: string): () => void {
      if (user.email && remembered.get(user.id) !== user.email) {
        const email = user.email;
        remembered.set(user.id, email);
        // The user's row may not exist yet (it is made at their first marketplace action).
        const remember = prisma.$executeRaw`
          INSERT INTO "User" ("id", "name", "email", "updatedAt") VALUES (${user.id}, ${user.name}, ${email}, now())
          ON CONFLICT ("id") DO UPDATE SET "email" = excluded."email", "updatedAt" = now()
          WHERE "User"."email" IS DISTINCT FROM excluded."email"`;
        remember.catch((error: unknown) => {
          remembered.delete(user.id);
          onError(error);
        });
      }
      return () => viewing.closed(user.id, connectionId);
    },

    /** A `chat.onMessage` subscription opened on the connection; call the result when it ends. */
    watching: (userId: string, connectionId: string, conversationId: string) =>
      viewing.open(userId, connectionId, conversationId),

    setVisible: (userId: string, connectionId: string, visible: boolean) =>
      viewing.setVisible(userId, connectionId, visible),

    isViewing: (userId: string, conversationId: string) => viewing.isViewing(userId, conversationId),

    async preferences(userId: string) {
      const [preferences, user, devices, mutes] = await Promise.all([
        preferencesOf(userId),
        prisma.user.findUnique({ where: { id: userId }, select: { email: true } }),
        prisma.pushSubscription.count({ where: { userId } }),
        prisma.conversationMute.findMany({
          where: { userId, OR: [{ until: null }, { until: { gt: now() } }] },
          orderBy: { createdAt: "desc" },
          take: MAX_LISTED_MUTES,
          select: { conversationId: true, until: true },
        }),
      ]);
      return {
        ...preferences,
        /** Where digests go (the `email` claim of the last sign-in, or the marketplace's); null: none. */
        emailAddress: user?.email ?? null,
        /** The server sends web push; subscribe with `vapidPublicKey` as the `applicationServerKey`. */
        pushAvailable: pusher !== null,
        vapidPublicKey: pusher?.publicKey ?? null,
        emailAvailable: deps.emailEnabled,
        /** Devices registered for push. */
        pushDevices: devices,
        mutes,
      };
    },

    async updatePreferences(userId: string, input: UpdatePreferencesInput) {
      const change = {
        ...(input.push === undefined ? {} : { push: input.push }),
        ...(input.email === undefined ? {} : { email: input.email }),
      };
      const row = await prisma.notificationPreference.upsert({
        where: { userId },
        create: { userId, ...change },
        update: change,
      });
      return { push: row.push, email: row.email };
    },

    /** Stores this device's subscription (a device that changed hands moves to its new user). */
    async registerPush(userId: string, subscription: PushSubscriptionInput) {
      if (!pusher) throw badRequest("Web push is switched off on this server.");
      const stored = pusher.validate(subscription);
      await prisma.$transaction(async (tx) => {
        await tx.pushSubscription.upsert({
          where: { endpoint: stored.endpoint },
          create: { userId, ...stored },
          update: { userId, p256dh: stored.p256dh, auth: stored.auth, createdAt: now() },
        });
        const beyond = await tx.pushSubscription.findMany({
          where: { userId },
          orderBy: { createdAt: "desc" },
          skip: MAX_PUSH_DEVICES,
          select: { id: true },
        });
        if (beyond.length > 0) await tx.pushSubscription.deleteMany({ where: { id: { in: beyond.map((s) => s.id) } } });
      });
      return { registered: true };
    },

    async unregisterPush(userId: string, endpoint: string) {
      const { count } = await prisma.pushSubscription.deleteMany({ where: { userId, endpoint } });
      return { unregistered: count > 0 };
    },

    /** No push or email about the conversation until `until` (or until unmuted). */
    async mute(userId: string, { conversationId, until }: MuteInput) {
      await conversations.assertParticipant(conversationId, userId);
      const at = now();
      if (until && until.getTime() <= at.getTime()) throw badRequest("`until` must be in the future.");
      if (until && until.getTime() - at.getTime() > MAX_MUTE_MS) {
        throw badRequest("A mute can last at most a year; leave `until` out to mute until you unmute.");
      }
      const row = await prisma.conversationMute.upsert({
        where: { userId_conversationId: { userId, conversationId } },
        create: { userId, conversationId, until: until ?? null },
        update: { until: until ?? null, createdAt: at },
      });
      return { conversationId, muted: true, until: row.until };
    },

    async unmute(userId: string, conversationId: string) {
      await conversations.assertParticipant(conversationId, userId);
      await prisma.conversationMute.deleteMany({ where: { userId, conversationId } });
      return { conversationId, muted: false, until: null };
    },

    /** RFC 8058 one-click unsubscribe: email off for this user. */
    async unsubscribeEmail(userId: string) {
      await prisma.notificationPreference.upsert({
        where: { userId },
        create: { userId, email: false },
        update: { email: false },
      });
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
