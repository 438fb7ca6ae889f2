import { randomBytes } from "node:crypto";
import { startWebhookReceiver } from "@naafe/api/testing";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/env.ts";
import { connectClient, startTestServer } from "./harness.ts";

const KEY = "service-key-one-that-is-long-enough-0001";
const NEXT_KEY = "service-key-two-that-is-long-enough-0002";
const OLD_KEY = "service-key-old-that-is-long-enough-0000";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const backends = process.env["DATABASE_URL"] ? (["pglite", "postgres"] as const) : (["pglite"] as const);

/** A server on PGlite, or on a schema of its own of the PostgreSQL at DATABASE_URL. */
async function startServer(backend: (typeof backends)[number], env: Record<string, string> = {}) {
  const url = process.env["DATABASE_URL"];
  const schema = `e2e_${randomBytes(5).toString("hex")}`;
  const database: Record<string, string> =
    backend === "postgres" && url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {};
  const app = await startTestServer({ SERVICE_KEYS: `${KEY},${NEXT_KEY}`, ...database, ...env });
  const call = (method: string, path: string, body?: unknown, key: string | null = KEY) =>
    fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    app,
    call,
    async [Symbol.asyncDispose]() {
      await app[Symbol.asyncDispose]();
      if (backend !== "postgres" || !url) return;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
      await client.end();
    },
  };
}

const offerAccepted = (n: number | string) => ({
  offerId: `offer-${n}`,
  jobRequestId: `job-${n}`,
  jobTitle: "Paint the living room",
  price: 350,
  seeker: { id: "sara", name: "Sara", email: "sara@example.com" },
  provider: { id: "omar", name: "Omar" },
});

// The first server of a worker starts a cold PGlite (WebAssembly, migrations, the job queue's
// tables): on a loaded two-core machine that alone came close to the default minute.
describe.each(backends)("service API and webhooks over HTTP (%s)", { timeout: 180_000 }, (backend) => {
  it("refuses a missing, wrong or retired key, and a key in the URL; accepts both current keys", async () => {
    await using t = await startServer(backend);
    const missing = await t.call("GET", "/service/users/sara/unread-count", undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await t.call("GET", "/service/users/sara/unread-count", undefined, OLD_KEY)).status).toBe(401);
    expect((await t.call("GET", "/service/users/sara/unread-count", undefined, `${KEY}x`)).status).toBe(401);
    // A user's token is not a service key.
    expect((await t.call("GET", "/service/users/sara/unread-count", undefined, t.app.token("sara"))).status).toBe(401);
    const inUrl = await t.call("GET", `/service/users/sara/unread-count?key=${KEY}`, undefined, null);
    expect(inUrl.status).toBe(400);
    expect(await inUrl.json()).toMatchObject({ error: { message: expect.stringMatching(/Authorization header/) } });
    for (const key of [KEY, NEXT_KEY]) {
      const answer = await t.call("GET", "/service/users/sara/unread-count", undefined, key);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ total: 0 });
    }
  });

  it("opens one conversation per offer, when called twice and concurrently, as chat.conversations shows it", async () => {
    await using t = await startServer(backend);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => t.call("POST", "/service/conversations", offerAccepted(1))),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    const opened = await Promise.all(answers.map((answer) => answer.json() as Promise<{ id: string }>));
    const again = (await (await t.call("POST", "/service/conversations", offerAccepted(1))).json()) as { id: string };
    expect(new Set([...opened, again].map((conversation) => conversation.id)).size).toBe(1);

    await using sara = connectClient(t.app.url, t.app.token("sara"));
    const { conversations } = await sara.client.chat.conversations.query({ page: 1, limit: 20 });
    expect(conversations).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(conversations[0]))).toEqual(again);
    expect(again).toMatchObject({
      jobRequestId: "job-1",
      jobRequest: { title: "Paint the living room" },
      otherParticipant: { id: "omar", name: "Omar" },
      role: "seeker",
      isActive: true,
      unreadCount: 0,
      lastMessage: { content: "Offer accepted: 350 EGP", senderId: "naafe", type: "system" },
    });
  });

  it("answers 400 with a readable message for wrong types, unknown fields and a body that is not JSON", async () => {
    await using t = await startServer(backend);
    const wrongType = await t.call("POST", "/service/conversations", { ...offerAccepted(2), price: "350", seeker: 7 });
    expect(wrongType.status).toBe(400);
    const { error } = (await wrongType.json()) as { error: { message: string; issues: { path: string }[] } };
    expect(error.message).toMatch(/price: .*number/i);
    expect(error.issues.map((issue) => issue.path)).toEqual(["price", "seeker"]);

    const unknown = await t.call("POST", "/service/conversations", { ...offerAccepted(2), admin: true });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/admin/);
    const nested = await t.call("PUT", "/service/users/sara", { name: "Sara", role: "admin" });
    expect(nested.status).toBe(400);
    expect((await t.call("POST", "/service/conversations", "{not json")).status).toBe(400);
    expect((await t.call("PUT", "/service/users/sara", { avatarUrl: "javascript:alert(1)" })).status).toBe(400);
    // Nothing was stored by the refused calls.
    await using sara = connectClient(t.app.url, t.app.token("sara"));
    expect((await sara.client.chat.conversations.query({ page: 1, limit: 20 })).conversations).toEqual([]);
  });

  it("closes and reopens a conversation, updates a profile, and counts a user's unread messages", async () => {
    await using t = await startServer(backend);
    const conversation = (await (await t.call("POST", "/service/conversations", offerAccepted(3))).json()) as {
      id: string;
    };
    await using sara = connectClient(t.app.url, t.app.token("sara"));
    await sara.client.chat.sendMessage.mutate({ conversationId: conversation.id, content: "When can you come?" });
    expect(await (await t.call("GET", "/service/users/omar/unread-count")).json()).toEqual({ total: 1 });

    const profile = await t.call("PUT", "/service/users/omar", {
      name: "Omar the painter",
      avatarUrl: "https://cdn.example.com/omar.png",
    });
    expect(await profile.json()).toMatchObject({ id: "omar", name: "Omar the painter" });

    const closed = await t.call("POST", `/service/conversations/${conversation.id}/close`);
    expect(await closed.json()).toMatchObject({ isActive: false, otherParticipant: { name: "Omar the painter" } });
    await expect(
      sara.client.chat.sendMessage.mutate({ conversationId: conversation.id, content: "Hello?" }),
    ).rejects.toThrow(/closed/);
    expect(await (await t.call("POST", `/service/conversations/${conversation.id}/reopen`)).json()).toMatchObject({
      isActive: true,
    });
    await sara.client.chat.sendMessage.mutate({ conversationId: conversation.id, content: "Hello again" });
    expect((await t.call("POST", "/service/conversations/nope/close")).status).toBe(404);

    const posted = await t.call("POST", `/service/conversations/${conversation.id}/messages`, {
      content: "Payment of 350 EGP received.",
    });
    expect(await posted.json()).toMatchObject({ type: "system", content: "Payment of 350 EGP received." });
    expect((await t.call("POST", `/service/conversations/${conversation.id}/messages`, { content: " " })).status).toBe(
      400,
    );
    expect((await t.call("POST", "/service/conversations/nope/messages", { content: "Hi" })).status).toBe(404);
    const history = await sara.client.chat.messages.query({ conversationId: conversation.id });
    // Both participants see every change of state as a notice in the conversation itself.
    expect(history.messages.map((message) => [message.type, message.content])).toEqual([
      ["system", "Offer accepted: 350 EGP"],
      ["text", "When can you come?"],
      ["system", "This conversation was closed; it can be read but no longer written to."],
      ["system", "This conversation was reopened."],
      ["text", "Hello again"],
      ["system", "Payment of 350 EGP received."],
    ]);
  });

  it("sends signed webhooks, logs them for support, and loses none when the server restarts mid-delivery", async () => {
    await using receiver = await startWebhookReceiver((n) => (n === 0 ? "hang" : 200));
    await using t = await startServer(backend, {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_TIMEOUT_MS: "1000",
    });
    const conversation = (await (await t.call("POST", "/service/conversations", offerAccepted(4))).json()) as {
      id: string;
    };
    await receiver.receivedCount(1);
    // The first attempt is still waiting for an answer: restart now.
    await t.app.restart();
    await receiver.receivedCount(2);
    const [first, second] = receiver.received;
    expect(second?.headers["webhook-id"]).toBe(first?.headers["webhook-id"]);
    const event = new Webhook(SECRET).verify(second?.body ?? "", second?.headers as Record<string, string>);
    expect(event).toMatchObject({ type: "conversation.opened", data: { conversationId: conversation.id } });

    const closed = await t.call("POST", `/service/conversations/${conversation.id}/close`);
    expect(closed.status).toBe(200);
    await receiver.receivedCount(3);
    expect(JSON.parse(receiver.received[2]?.body ?? "{}")).toMatchObject({ type: "conversation.closed" });

    const log = (await (await t.call("GET", "/service/webhooks/deliveries?limit=10")).json()) as {
      deliveries: { id: string; type: string; status: string; attempts: number }[];
    };
    expect(log.deliveries.map((row) => [row.type, row.status])).toEqual([
      ["conversation.closed", expect.stringMatching(/pending|delivered/)],
      ["conversation.opened", "delivered"],
    ]);
    expect(log.deliveries[1]).toMatchObject({ id: first?.headers["webhook-id"], attempts: 2 });
    expect((await t.call("GET", "/service/webhooks/deliveries?limit=1000")).status).toBe(400);
  });
});

describe("webhook configuration", () => {
  const base = { DATA_DIR: "/tmp/naafe-config-test", JWT_SECRET: "x".repeat(32), DEMO: "false" };
  it.each([
    [
      "loopback",
      { NODE_ENV: "production", WEBHOOK_URL: "https://127.0.0.1/hooks", WEBHOOK_SECRET: SECRET },
      /non-public/,
    ],
    [
      "cloud metadata",
      { NODE_ENV: "production", WEBHOOK_URL: "https://169.254.169.254/", WEBHOOK_SECRET: SECRET },
      /non-public/,
    ],
    ["plain http", { WEBHOOK_URL: "http://hooks.example.com/", WEBHOOK_SECRET: SECRET }, /https/],
    ["private targets allowed in production", { NODE_ENV: "production", WEBHOOK_ALLOW_PRIVATE: "true" }, /production/],
    ["a URL without its secret", { WEBHOOK_URL: "https://hooks.example.com/" }, /WEBHOOK_SECRET/],
    ["a secret that is not whsec_", { WEBHOOK_URL: "https://hooks.example.com/", WEBHOOK_SECRET: "abc" }, /whsec_/],
    ["a short service key", { SERVICE_KEYS: `${KEY},short` }, /at least 32/],
  ])("refuses %s", (_, env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it("accepts a public HTTPS endpoint in production", () => {
    const production = { ...base, NODE_ENV: "production", WEBHOOK_SECRET: SECRET };
    expect(loadConfig({ ...production, WEBHOOK_URL: "https://hooks.example.com/naafe" }).webhooks).toMatchObject({
      url: "https://hooks.example.com/naafe",
      allowPrivate: false,
    });
  });
});
