import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { closeCodes } from "../src/ws/admission.ts";
import { connectClient, record, startTestServer } from "./harness.ts";

const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 20_000, interval: 20 });

/** Opens a raw WebSocket and resolves with how it ended: a close code, or the HTTP status of a refused upgrade. */
function outcome(url: string, headers: Record<string, string>) {
  return new Promise<{ opened: boolean; code?: number; status?: number }>((resolve) => {
    const socket = new WebSocket(url, { headers });
    let opened = false;
    socket.on("open", () => {
      opened = true;
      // Still open a moment later: admitted.
      setTimeout(() => {
        resolve({ opened });
        socket.close();
      }, 500);
    });
    socket.on("unexpected-response", (_req, res) => resolve({ opened, status: res.statusCode }));
    socket.on("close", (code) => resolve({ opened, code }));
    socket.on("error", () => {});
  });
}

describe("limits that keep one client from hurting the others", () => {
  let app: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    app = await startTestServer({
      MAX_CONNECTIONS_PER_USER: "2",
      MAX_SUBSCRIPTIONS_PER_CONNECTION: "3",
      MAX_BATCH_SIZE: "4",
      FAILED_AUTH_PER_MINUTE: "3",
      ALLOWED_ORIGINS: "https://partner.example",
      CORS_ORIGINS: "https://partner.example",
    });
  });
  afterAll(() => app[Symbol.asyncDispose]());
  const wsUrl = () => `${app.url.replace(/^http/, "ws")}/trpc`;

  it("accepts WebSockets from the server's own origin and allowed ones, refuses other sites", async () => {
    const auth = { authorization: `Bearer ${app.token("origin-user")}` };
    expect(await outcome(wsUrl(), { ...auth, origin: "https://evil.example" })).toEqual({ opened: false, status: 403 });
    expect(await outcome(wsUrl(), { ...auth, origin: app.url })).toEqual({ opened: true });
    expect(await outcome(wsUrl(), { ...auth, origin: "https://partner.example" })).toEqual({ opened: true });
  });

  it("caps the connections of one user", async () => {
    const token = app.token("many-tabs");
    await using first = connectClient(app.url, token);
    await using second = connectClient(app.url, token);
    await record(first.client.chat.onInbox, undefined).started;
    await record(second.client.chat.onInbox, undefined).started;
    await using third = connectClient(app.url, token);
    record(third.client.chat.onInbox, undefined);
    await waitFor(() => expect(third.closeCodes).toContain(closeCodes.tooMany));
    expect(first.closeCodes).toEqual([]);
  });

  it("caps the subscriptions of one connection", async () => {
    await using greedy = connectClient(app.url, app.token("greedy"));
    for (let i = 0; i < 3; i++) await record(greedy.client.chat.onInbox, undefined).started;
    record(greedy.client.chat.onInbox, undefined);
    await waitFor(() => expect(greedy.closeCodes).toContain(closeCodes.tooMany));
  });

  it("answers CORS preflights for configured origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${app.url}/trpc/chat.sendMessage`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const allowed = await preflight("https://partner.example");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://partner.example");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("limits HTTP bodies and WebSocket frames to what a 2000-character message needs", async () => {
    const huge = JSON.stringify({ conversationId: "c", content: "x".repeat(100_000) });
    const res = await fetch(`${app.url}/trpc/chat.sendMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${app.token("big")}`, "content-type": "application/json" },
      body: huge,
    });
    expect(res.status).toBe(413);

    const socket = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${app.token("big")}` } });
    await new Promise((resolve) => socket.on("open", resolve));
    socket.send(huge);
    expect(await new Promise((resolve) => socket.on("close", resolve))).toBe(1009);
  });

  it("signs a user out everywhere: open connections close, older tokens are refused, new ones work", async () => {
    const oldToken = app.token("revoked");
    await using phone = connectClient(app.url, oldToken);
    await record(phone.client.chat.onInbox, undefined).started;
    expect(app.server.revokeUser("revoked")).toBe(1);
    await waitFor(() => expect(phone.closeCodes).toContain(closeCodes.unauthorized));
    expect(await outcome(wsUrl(), { authorization: `Bearer ${oldToken}` })).toMatchObject({
      code: closeCodes.unauthorized,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // `iat` counts whole seconds
    expect(await outcome(wsUrl(), { authorization: `Bearer ${app.token("revoked")}` })).toEqual({ opened: true });
  });

  it("serves the web app with security headers", async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
  it("refuses HTTP subscriptions: they would bypass every WebSocket rule", async () => {
    const input = encodeURIComponent(JSON.stringify({ json: null }));
    const res = await fetch(`${app.url}/trpc/chat.onInbox?input=${input}`, {
      headers: { authorization: `Bearer ${app.token("sse")}`, accept: "text/event-stream" },
    });
    // Whatever the framing, the stream carries one refusal and ends: nothing is ever streamed.
    const body = await res.text();
    expect(body).toContain("METHOD_NOT_SUPPORTED");
    expect(body).not.toContain('"kind"');
  });

  it("keeps a connection whose token is valid for longer than a timer can wait (24.8 days)", async () => {
    await using longLived = connectClient(app.url, app.token("long-lived", "900h"));
    await record(longLived.client.chat.onInbox, undefined).started;
    expect(await longLived.client.auth.me.query()).toMatchObject({ id: "long-lived" });
    expect(longLived.closeCodes).toEqual([]);
  });

  it("batches at most MAX_BATCH_SIZE calls in one HTTP request", async () => {
    const paths = Array.from({ length: 5 }, () => "auth.me").join(",");
    const res = await fetch(`${app.url}/trpc/${paths}?batch=1&input={}`, {
      headers: { authorization: `Bearer ${app.token("batcher")}` },
    });
    expect(res.status).toBe(400);
  });

  // Last: it blocks this test process's address for a minute.
  it("refuses an address's bad tokens for a while after repeated failed sign-ins, never a valid token", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/trpc/auth.me`, { headers: { authorization: "Bearer forged" } });
      expect(res.status).toBe(401);
    }
    const refused = await fetch(`${app.url}/trpc/auth.me`, { headers: { authorization: "Bearer forged" } });
    expect(refused.status).toBe(429);
    expect(await outcome(wsUrl(), { authorization: "Bearer forged" })).toMatchObject({ code: closeCodes.tooMany });
    // Behind a NAT or a load balancer, the same address is everyone's: their valid tokens still work.
    const valid = await fetch(`${app.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${app.token("x")}` } });
    expect(valid.status).toBe(200);
    expect(await outcome(wsUrl(), { authorization: `Bearer ${app.token("x")}` })).toEqual({ opened: true });
  });
});

describe.skipIf(!process.env["REDIS_URL"])("revocation across instances (REDIS_URL)", () => {
  it("closes the user's connections on every instance", async () => {
    const shared = { REDIS_URL: process.env["REDIS_URL"] ?? "" };
    await using a = await startTestServer(shared);
    await using b = await startTestServer(shared);
    await using onB = connectClient(b.url, b.token("roaming"));
    await record(onB.client.chat.onInbox, undefined).started;
    expect(a.server.revokeUser("roaming")).toBe(0); // nothing open on A itself
    await waitFor(() => expect(onB.closeCodes).toContain(closeCodes.unauthorized));
  });
});
