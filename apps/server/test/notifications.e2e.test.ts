import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PushConfig, signToken } from "@naafe/api";
import { startMailServer, startPushService } from "@naafe/api/testing";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.ts";
import { connectClient, record, startTestServer } from "./harness.ts";

/**
 * A real server whose pushes go to a local push service (trusted through its agent) and whose
 * digests go to a local SMTP server, with short delays: push after 200 ms, digest after 1 s.
 */
async function startNotifyingServer() {
  const pushService = await startPushService();
  const mail = await startMailServer();
  const app = await startTestServer(
    {
      SMTP_URL: mail.url,
      SMTP_FROM: "Naafe <chat@example.test>",
      PUSH_AFTER_MS: "200",
      EMAIL_DIGEST_AFTER_MS: "1000",
      NOTIFICATION_SWEEP_MS: "500",
      PUSH_ALLOW_PRIVATE_ENDPOINTS: "true",
      PUBLIC_URL: "https://chat.example.test",
    },
    (config) => {
      const push = config.notifications.push;
      if (!push) throw new Error("push is off");
      const trusting: PushConfig = { ...push, agent: pushService.agent };
      return { ...config, notifications: { ...config.notifications, push: trusting } };
    },
  );
  const token = (id: string, email?: string) =>
    signToken(app.config.auth, { id, name: id, ...(email ? { email } : {}) }, "1h");
  return {
    server: app.server,
    url: app.url,
    token,
    pushService,
    mail,
    async [Symbol.asyncDispose]() {
      await app[Symbol.asyncDispose]();
      await mail[Symbol.asyncDispose]();
      await pushService[Symbol.asyncDispose]();
    },
  };
}

describe("notifications end to end", () => {
  it("pushes once the receiver stops viewing, emails a digest to the token's address, and unsubscribes in one click", async () => {
    await using app = await startNotifyingServer();
    await using sara = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar", "omar@example.test"), { allOverWebSocket: true });

    const job = await sara.client.jobRequest.create.mutate({ title: "Fix a leaking kitchen tap" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 80 });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;

    const preferences = await omar.client.notifications.preferences.query();
    expect(preferences).toMatchObject({ push: true, email: true, pushAvailable: true, emailAvailable: true });
    expect(preferences.emailAddress).toBe("omar@example.test");
    await omar.client.notifications.registerPush.mutate({ subscription: app.pushService.subscription() });

    // Omar has the conversation open and visible: a push job runs, and decides to send nothing.
    const omarsMessages = record(omar.client.chat.onMessage, { conversationId });
    await omarsMessages.started;
    const pushRuns: string[] = [];
    const settledPush = new Promise<void>((resolve) => {
      app.server.jobs.queue.onSettled((event) => {
        if (event.name !== "notifications.push") return;
        pushRuns.push(event.outcome);
        resolve();
      });
    });
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "Can you come tomorrow?" });
    await settledPush;
    expect(pushRuns).toEqual(["completed"]);
    expect(app.pushService.received).toHaveLength(0);

    // His tab goes to the background: the next message is pushed, once.
    await omar.client.notifications.setVisible.mutate({ visible: false });
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "At 9 <am>?" });
    await app.pushService.receivedCount(1);
    expect(app.pushService.refused).toEqual([]);
    expect(app.pushService.received[0]?.payload).toMatchObject({
      conversationId,
      title: "sara",
      body: "At 9 <am>?",
      unreadCount: 2,
      url: `https://chat.example.test/#/c/${conversationId}`,
    });

    // Still unread after the digest delay: one email, to the address from his token.
    await app.mail.receivedCount(1);
    expect(app.mail.envelopes).toEqual([["omar@example.test"]]);
    const email = app.mail.received[0];
    expect(email?.subject).toBe("2 unread messages from sara");
    expect(email?.html).toContain("At 9 &lt;am&gt;?");
    const header = (key: string) => email?.headerLines.find((line) => line.key === key)?.line.replace(/^[^:]+:\s*/, "");
    expect(header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    const unsubscribeUrl = (header("list-unsubscribe") ?? "").slice(1, -1);
    const local = new URL(unsubscribeUrl);
    const route = `${app.url}${local.pathname}${local.search}`;

    // A link scanner's GET changes nothing; a forged token is refused; the one-click POST unsubscribes.
    expect((await fetch(route)).status).toBe(200);
    expect((await omar.client.notifications.preferences.query()).email).toBe(true);
    const forged = route.replace(/token=[^.]+/, `token=${Buffer.from("sara").toString("base64url")}`);
    const refused = await fetch(forged, { method: "POST", body: "List-Unsubscribe=One-Click" });
    expect(refused.status).toBe(400);
    const done = await fetch(route, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(done.status).toBe(200);
    expect((await omar.client.notifications.preferences.query()).email).toBe(false);
    expect((await sara.client.notifications.preferences.query()).email).toBe(true);
    omarsMessages.stop();
  });

  it("refuses to mute a conversation of others, or until a time in the past", async () => {
    await using app = await startNotifyingServer();
    await using sara = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar"));
    await using eve = connectClient(app.url, app.token("eve"));
    const job = await sara.client.jobRequest.create.mutate({ title: "Paint the hallway" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 80 });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    await expect(eve.client.chat.mute.mutate({ conversationId: conversation.id })).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
    await expect(
      sara.client.chat.mute.mutate({ conversationId: conversation.id, until: new Date(Date.now() - 60_000) }),
    ).rejects.toMatchObject({ data: { code: "BAD_REQUEST" } });
    const until = new Date(Date.now() + 3_600_000);
    expect(await sara.client.chat.mute.mutate({ conversationId: conversation.id, until })).toMatchObject({
      muted: true,
      until,
    });
    expect((await sara.client.notifications.preferences.query()).mutes).toEqual([
      { conversationId: conversation.id, until },
    ]);
  });
});

describe("notification configuration", () => {
  const production = { NODE_ENV: "production", JWT_SECRET: "x".repeat(32), DEMO: "false" };
  const keys = { VAPID_PUBLIC_KEY: "B".repeat(87), VAPID_PRIVATE_KEY: "A".repeat(43) };

  it.each([
    ["private push endpoints in production", { ...production, PUSH_ALLOW_PRIVATE_ENDPOINTS: "true" }, /production/],
    ["half a VAPID key pair", { ...production, VAPID_PUBLIC_KEY: "public-key" }, /VAPID_PRIVATE_KEY/],
    ["a VAPID key that is not one", { ...keys, VAPID_PUBLIC_KEY: "public-key" }, /65 bytes/],
    ["VAPID keys without a subject in production", { ...production, ...keys }, /VAPID_SUBJECT/],
    [
      "SMTP without an unsubscribe secret in production",
      { ...production, SMTP_URL: "smtp://mail.example.com" },
      /UNSUBSCRIBE_SECRET/,
    ],
    ["an SMTP URL of another scheme", { SMTP_URL: "http://mail.example.com" }, /smtp/],
  ])("refuses %s", async (_, env, message) => {
    const dataDir = await mkdtemp(join(tmpdir(), "notifications-config-"));
    try {
      expect(() => loadConfig({ DATA_DIR: dataDir, ...env })).toThrow(message);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("switches push and email off in production until they are configured, and on outside it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "notifications-config-"));
    try {
      const off = loadConfig({ DATA_DIR: dataDir, ...production }).notifications;
      expect(off.push).toBeUndefined();
      expect(off.email).toBeUndefined();

      const dev = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: "x".repeat(32) }).notifications;
      expect(dev.push?.vapid.publicKey).toMatch(/^[A-Za-z0-9_-]{80,}$/);
      expect(dev.email).toMatchObject({ smtpUrl: undefined, outboxDir: join(dataDir, "outbox") });
      // Generated once: the same keys and secret after a restart.
      const again = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: "x".repeat(32) }).notifications;
      expect(again.push?.vapid).toEqual(dev.push?.vapid);
      expect(again.email?.unsubscribeSecret).toBe(dev.email?.unsubscribeSecret);

      const on = loadConfig({
        DATA_DIR: dataDir,
        ...production,
        ...keys,
        VAPID_SUBJECT: "mailto:ops@example.com",
        SMTP_URL: "smtps://mail.example.com",
        UNSUBSCRIBE_SECRET: "u".repeat(32),
      }).notifications;
      expect(on.push?.allowPrivateEndpoints).toBe(false);
      expect(on.email?.smtpUrl).toBe("smtps://mail.example.com");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
