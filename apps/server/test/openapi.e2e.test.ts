import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import createClient from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { connectClient, startTestServer } from "./harness.ts";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Uses of the types openapi-typescript generates from the served document: it compiles only if
 * the paths, inputs and responses are what the seed's clients rely on (dates as strings).
 */
const usesOfTheTypes = `
import type { paths } from "./api";
type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Conversations = paths["/api/chat/conversations"]["get"];
const list: Json<Conversations["responses"][200]> = null!;
const title: string = list.conversations[0]!.jobRequest.title;
const other: string | null = list.conversations[0]!.otherParticipant.name;
const updatedAt: string = list.conversations[0]!.updatedAt;
const total: number = list.pagination.total;
const query: NonNullable<Conversations["parameters"]["query"]> = { page: 1, limit: 20 };
type Messages = paths["/api/chat/conversations/{conversationId}/messages"];
const page: Json<Messages["get"]["responses"][200]> = null!;
const status: "sent" | "delivered" | "read" = page.messages[0]!.status;
const cursor: string | null = page.nextCursor;
const send: Json<Messages["post"]["requestBody"]> = { content: "Hello", clientMessageId: "c-1" };
// @ts-expect-error unknown fields are not part of the body
const extra: Json<Messages["post"]["requestBody"]> = { content: "Hello", colour: "red" };
const sentAt: string = (null! as Json<Messages["post"]["responses"][200]>).timestamp;
type Read = paths["/api/chat/conversations/{conversationId}/read"]["patch"];
const readCount: number = (null! as Json<Read["responses"][200]>).readCount;
type ByJob = paths["/api/chat/job-requests/{jobRequestId}/conversation"]["get"];
const role: "seeker" | "provider" = (null! as Json<ByJob["responses"][200]>).role;
type Unread = paths["/api/chat/unread-count"]["get"];
const unread: number = (null! as Json<Unread["responses"][200]>).total;
export { title, other, updatedAt, total, query, status, cursor, send, extra, sentAt, readCount, role, unread };
`;

/** Generates TypeScript types from `document` into a temporary folder and type-checks `usesOfTheTypes` against them. */
async function typeErrorsAgainst(document: unknown): Promise<string[]> {
  const types = astToString(await openapiTS(document as Parameters<typeof openapiTS>[0]));
  const dir = await mkdtemp(join(tmpdir(), "openapi-types-"));
  try {
    await writeFile(join(dir, "api.ts"), types);
    await writeFile(join(dir, "uses.ts"), usesOfTheTypes);
    const program = ts.createProgram([join(dir, "uses.ts")], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    return ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// A user's REST client, built from the served document's paths (untyped at run time: the types
// are generated and checked above, from the same document).
// biome-ignore lint/suspicious/noExplicitAny: the paths are generated at run time.
type AnyPaths = any;
const restClient = (baseUrl: string, token: string | null) =>
  createClient<AnyPaths>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("the seed's REST paths and the OpenAPI document", { timeout: 180_000 }, () => {
  it("serves an OpenAPI 3.1 document whose generated types fit, and runs the seed's flow through it", async () => {
    await using app = await startTestServer({ SEND_BURST: "3", SEND_PER_SECOND: "1" });
    const response = await fetch(`${app.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe("3.1.0");
    expect(Object.fromEntries(Object.entries(document.paths).map(([path, item]) => [path, Object.keys(item)]))).toEqual(
      {
        "/api/chat/conversations": ["get"],
        "/api/chat/conversations/{conversationId}/messages": ["get", "post"],
        "/api/chat/conversations/{conversationId}/read": ["patch"],
        "/api/chat/job-requests/{jobRequestId}/conversation": ["get"],
        "/api/chat/unread-count": ["get"],
      },
    );
    expect(await typeErrorsAgainst(document)).toEqual([]);

    // The conversation comes from the marketplace (here our own job request → offer → accept).
    await using saraTrpc = connectClient(app.url, app.token("sara"));
    await using omarTrpc = connectClient(app.url, app.token("omar"));
    const job = await saraTrpc.client.jobRequest.create.mutate({ title: "Fix a leaking kitchen tap" });
    const offer = await omarTrpc.client.offer.create.mutate({ jobRequestId: job.id, price: 80 });
    const { conversation } = await saraTrpc.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;
    const sara = restClient(app.url, app.token("sara"));
    const omar = restClient(app.url, app.token("omar"));
    const inConversation = { params: { path: { conversationId } } };

    const list = await omar.GET("/api/chat/conversations", { params: { query: { page: 1, limit: 10 } } });
    expect(list.response.status).toBe(200);
    expect(list.data.pagination).toEqual({ page: 1, limit: 10, total: 1, pages: 1 });
    expect(list.data.conversations).toHaveLength(1);
    expect(list.data.conversations[0]).toMatchObject({
      id: conversationId,
      jobRequestId: job.id,
      jobRequest: { id: job.id, title: "Fix a leaking kitchen tap" },
      otherParticipant: { id: "sara" },
      role: "provider",
      // It opens with Naafe's notice, unread for nobody.
      lastMessage: { content: "Offer accepted: 80 EGP", senderId: "naafe", type: "system" },
      unreadCount: 0,
      isActive: true,
    });
    expect(list.data.conversations[0].createdAt).toMatch(ISO_DATE);

    const sent = await omar.POST("/api/chat/conversations/{conversationId}/messages", {
      ...inConversation,
      body: { content: "  Hi Sara, I can come at five.  ", clientMessageId: "omar-1" },
    });
    expect(sent.response.status).toBe(200);
    expect(sent.data).toMatchObject({ conversationId, content: "Hi Sara, I can come at five.", seq: 2 });
    expect(sent.data.timestamp).toMatch(ISO_DATE);
    // A retry with the same clientMessageId is the same message, not a copy.
    const retried = await omar.POST("/api/chat/conversations/{conversationId}/messages", {
      ...inConversation,
      body: { content: "Hi Sara, I can come at five.", clientMessageId: "omar-1" },
    });
    expect(retried.data.messageId).toBe(sent.data.messageId);

    expect((await sara.GET("/api/chat/unread-count", {})).data).toEqual({ total: 1 });
    const page = await sara.GET("/api/chat/conversations/{conversationId}/messages", {
      params: { path: { conversationId }, query: { limit: 5 } },
    });
    expect(page.response.status).toBe(200);
    expect(page.data.messages.map((message: { content: string }) => message.content)).toEqual([
      "Offer accepted: 80 EGP",
      "Hi Sara, I can come at five.",
    ]);
    expect(page.data.messages[1]).toMatchObject({
      id: sent.data.messageId,
      senderId: "omar",
      receiverId: "sara",
      content: "Hi Sara, I can come at five.",
      read: false,
      deleted: false,
    });
    expect(page.data.messages[1]?.timestamp).toBe(sent.data.timestamp);
    expect(page.data.nextCursor).toBeNull();

    // As the seed's clients call it: no body at all.
    const read = await sara.PATCH("/api/chat/conversations/{conversationId}/read", inConversation);
    expect(read.response.status).toBe(200);
    expect(read.data).toEqual({ conversationId, readCount: 1 });
    expect((await sara.GET("/api/chat/unread-count", {})).data).toEqual({ total: 0 });

    const byJob = await sara.GET("/api/chat/job-requests/{jobRequestId}/conversation", {
      params: { path: { jobRequestId: job.id } },
    });
    expect(byJob.response.status).toBe(200);
    expect(byJob.data).toMatchObject({
      id: conversationId,
      role: "seeker",
      otherParticipant: { id: "omar" },
      lastMessage: { content: "Hi Sara, I can come at five.", senderId: "omar" },
      unreadCount: 0,
    });

    // The procedures' own rate limits apply (a burst of 3 sends here): the refused are not stored.
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        omar.POST("/api/chat/conversations/{conversationId}/messages", {
          ...inConversation,
          body: { content: `burst ${n}` },
        }),
      ),
    );
    const statuses = burst.map((result) => result.response.status);
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(burst.find((result) => result.response.status === 429)?.error.data.retryAfter).toBeGreaterThan(0);
    const stored = await sara.GET("/api/chat/conversations/{conversationId}/messages", {
      params: { path: { conversationId }, query: { limit: 100 } },
    });
    // The notice, the first message, and the burst's accepted sends.
    expect(stored.data.pagination.total).toBe(2 + statuses.filter((status) => status === 200).length);
  });

  it("refuses wrong types, unknown fields, a token in the URL, no token and strangers, and changes nothing", async () => {
    await using app = await startTestServer();
    await using saraTrpc = connectClient(app.url, app.token("sara"));
    await using omarTrpc = connectClient(app.url, app.token("omar"));
    const job = await saraTrpc.client.jobRequest.create.mutate({ title: "Paint the fence" });
    const offer = await omarTrpc.client.offer.create.mutate({ jobRequestId: job.id });
    const { conversation } = await saraTrpc.client.offer.accept.mutate({ offerId: offer.id });
    const base = `${app.url}/api/chat`;
    const messagesUrl = `${base}/conversations/${conversation.id}/messages`;
    const call = async (
      method: string,
      url: string,
      { token = app.token("omar"), body }: { token?: string | null; body?: unknown } = {},
    ) => {
      const response = await fetch(url, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { message: string; code: string } };
    };

    // Wrong types: a readable sentence naming the field.
    const wrongPage = await call("GET", `${base}/conversations?page=two`);
    expect(wrongPage.status).toBe(400);
    expect(wrongPage.body.message).toMatch(/^page: /);
    expect((await call("GET", `${base}/conversations?page=0`)).status).toBe(400);
    expect((await call("GET", `${base}/conversations?limit=0x10`)).status).toBe(400);
    const wrongContent = await call("POST", messagesUrl, { body: { content: 42 } });
    expect(wrongContent.status).toBe(400);
    expect(wrongContent.body.message).toMatch(/^content: /);
    const empty = await call("POST", messagesUrl, { body: { content: "   " } });
    expect(empty.body.message).toContain("content: A message cannot be empty.");
    expect((await call("POST", messagesUrl, { body: "not an object" })).status).toBe(400);
    const send = (headers: Record<string, string>, body: string) =>
      fetch(messagesUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${app.token("omar")}`, ...headers },
        body,
      });
    const badJson = await send({ "content-type": "application/json" }, '{"content": "Hello"');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ message: "The body is not valid JSON." });
    expect((await send({ "content-type": "text/plain" }, "Hello")).status).toBe(415);
    const huge = JSON.stringify({ content: "a".repeat(70_000) });
    expect((await send({ "content-type": "application/json" }, huge)).status).toBe(413);

    // Unknown fields, in the query and in the body.
    const unknownParam = await call("GET", `${base}/conversations?page=1&sort=asc`);
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.message).toContain("sort");
    const unknownField = await call("POST", messagesUrl, { body: { content: "Hello", colour: "red" } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toContain("colour");

    // A token in the URL, even a valid one, with or without the header.
    const omarsToken = app.token("omar");
    for (const [method, url] of [
      ["GET", `${base}/unread-count?access_token=${omarsToken}`],
      ["GET", `${base}/conversations?token=${omarsToken}`],
      ["PATCH", `${base}/conversations/${conversation.id}/read?token=${omarsToken}`],
    ] as const) {
      for (const token of [null, omarsToken]) {
        const refused = await call(method, url, { token, body: method === "PATCH" ? {} : undefined });
        expect(refused.status, `${method} ${url}`).toBe(400);
        expect(refused.body.message).toContain("Authorization header");
      }
    }
    expect((await call("POST", `${messagesUrl}?content=hi`, { body: { content: "Hello" } })).status).toBe(400);

    // No token, a bad token.
    const anonymous = await call("GET", `${base}/unread-count`, { token: null });
    expect(anonymous).toEqual({ status: 401, body: expect.objectContaining({ code: "UNAUTHORIZED" }) });
    expect(anonymous.body.message).toBe("Sign in to use the chat.");
    expect((await call("GET", `${base}/unread-count`, { token: "not-a-jwt" })).status).toBe(401);
    expect((await call("POST", messagesUrl, { token: null, body: { content: "Hello" } })).status).toBe(401);

    // Someone who is not in the conversation learns nothing and changes nothing.
    const lina = app.token("lina");
    expect((await call("GET", messagesUrl, { token: lina })).status).toBe(403);
    expect((await call("POST", messagesUrl, { token: lina, body: { content: "Hello" } })).status).toBe(403);
    expect(
      (await call("PATCH", `${base}/conversations/${conversation.id}/read`, { token: lina, body: {} })).status,
    ).toBe(403);
    expect((await call("GET", `${base}/job-requests/${job.id}/conversation`, { token: lina })).status).toBe(404);
    expect((await call("GET", `${base}/conversations`, { token: lina })).body).toMatchObject({ conversations: [] });

    const { messages } = await saraTrpc.client.chat.messages.query({ conversationId: conversation.id });
    // Only the notice the conversation opened with.
    expect(messages.map((message) => message.content)).toEqual(["Offer accepted"]);
    // The REST calls' numbers from the query string did not loosen the shared schemas for /trpc.
    await expect(
      saraTrpc.client.chat.conversations.query({ page: true as unknown as number, limit: 20 }),
    ).rejects.toThrow(/page/);
  });

  it("serves the reference page and its assets from this server", async () => {
    await using app = await startTestServer();
    const page = await fetch(`${app.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(assets).toEqual([
      "/docs/favicon-32x32.png",
      "/docs/swagger-ui.css",
      "/docs/swagger-ui-bundle.js",
      "/docs/init.js",
    ]);
    for (const asset of assets) {
      const response = await fetch(`${app.url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
    expect((await fetch(`${app.url}/docs/package.json`)).status).toBe(404);
  });
});
