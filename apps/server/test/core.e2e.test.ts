import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { closeCodes } from "../src/ws/admission.ts";
import { connectClient, record, startTestServer } from "./harness.ts";

const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 20_000, interval: 20 });

describe("over real sockets", () => {
  it("walks the seed's flow: job request → offer → accept → messages both ways → unread → read receipt", async () => {
    await using app = await startTestServer();
    await using sara = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar"));

    const omarsInbox = record(omar.client.chat.onInbox, undefined);
    await omarsInbox.started;

    const job = await sara.client.jobRequest.create.mutate({ title: "Fix a leaking kitchen tap" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 80 });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;
    await waitFor(() => expect(omarsInbox.events).toContainEqual({ kind: "conversation", conversationId }));
    expect(await omar.client.chat.conversationByJobRequest.query({ jobRequestId: job.id })).toMatchObject({
      id: conversationId,
    });

    const omarsMessages = record(omar.client.chat.onMessage, { conversationId });
    const sarasMessages = record(sara.client.chat.onMessage, { conversationId });
    const sarasReceipts = record(sara.client.chat.onMessagesRead, { conversationId });
    await Promise.all([omarsMessages.started, sarasMessages.started, sarasReceipts.started]);

    const hello = await sara.client.chat.sendMessage.mutate({
      conversationId,
      content: "Hi Omar, can you come today?",
    });
    await waitFor(() =>
      expect(omarsMessages.events.map((e) => e.data.content)).toEqual(["Hi Omar, can you come today?"]),
    );
    const [received] = omarsMessages.events;
    expect(received).toMatchObject({ id: hello.messageId, data: { senderId: "sara", conversationId } });
    expect(received?.data.timestamp).toBeInstanceOf(Date);

    await omar.client.chat.sendMessage.mutate({ conversationId, content: "Yes, at 5pm." });
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "Perfect, thanks!" });
    await waitFor(() => expect(sarasMessages.events).toHaveLength(3));
    expect(sarasMessages.events.map((e) => e.data.senderId)).toEqual(["sara", "omar", "sara"]);

    expect(await omar.client.chat.unreadCount.query()).toEqual({ total: 2 });
    expect(await sara.client.chat.unreadCount.query()).toEqual({ total: 1 });
    const [omarsView] = (await omar.client.chat.conversations.query()).conversations;
    expect(omarsView).toMatchObject({ unreadCount: 2, lastMessage: { content: "Perfect, thanks!", senderId: "sara" } });

    expect(await omar.client.chat.markRead.mutate({ conversationId })).toEqual({ conversationId, readCount: 2 });
    await waitFor(() => expect(sarasReceipts.events).toHaveLength(1));
    expect(sarasReceipts.events[0]).toMatchObject({ conversationId, readCount: 2, readerId: "omar" });
    expect(await omar.client.chat.unreadCount.query()).toEqual({ total: 0 });
    const { messages } = await sara.client.chat.messages.query({ conversationId });
    expect(messages.filter((m) => m.senderId === "sara").every((m) => m.read && m.readAt instanceof Date)).toBe(true);
  });

  it("does not send a message back over the WebSocket it was sent on when asked (echo: false)", async () => {
    await using app = await startTestServer();
    await using sara = connectClient(app.url, app.token("sara"), { allOverWebSocket: true });
    await using sarasPhone = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar"));
    const job = await sara.client.jobRequest.create.mutate({ title: "Paint the hallway" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 200 });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;

    const quiet = record(sara.client.chat.onMessage, { conversationId, echo: false });
    const everything = record(sara.client.chat.onMessage, { conversationId });
    await Promise.all([quiet.started, everything.started]);
    const mine = await sara.client.chat.sendMessage.mutate({ conversationId, content: "sent on this socket" });
    const phone = await sarasPhone.client.chat.sendMessage.mutate({ conversationId, content: "sent from my phone" });
    const reply = await omar.client.chat.sendMessage.mutate({ conversationId, content: "and a reply" });
    await waitFor(() => expect(everything.events).toHaveLength(3));
    expect(everything.events.map((event) => event.id)).toEqual([mine.messageId, phone.messageId, reply.messageId]);
    await waitFor(() => expect(quiet.events).toHaveLength(2));
    expect(quiet.events.map((event) => event.id)).toEqual([phone.messageId, reply.messageId]);
  });

  it("resumes after a server restart from lastEventId: every message sent meanwhile, once, in order", async () => {
    await using app = await startTestServer();
    await using sara = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar"));
    const job = await sara.client.jobRequest.create.mutate({ title: "Paint the fence" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;

    const omarsMessages = record(omar.client.chat.onMessage, { conversationId });
    await omarsMessages.started;
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "before" });
    await waitFor(() => expect(omarsMessages.events).toHaveLength(1));

    // Sara's messages land while Omar's socket is down; his client resubscribes with lastEventId.
    await app.restart();
    for (let i = 1; i <= 5; i++)
      await sara.client.chat.sendMessage.mutate({ conversationId, content: `meanwhile ${i}` });
    await waitFor(() => expect(omarsMessages.events).toHaveLength(6));
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "after" });
    await waitFor(() => expect(omarsMessages.events).toHaveLength(7));

    expect(omarsMessages.events.map((e) => e.data.content)).toEqual([
      "before",
      ...[1, 2, 3, 4, 5].map((i) => `meanwhile ${i}`),
      "after",
    ]);
    expect(omar.closeCodes).toContain(1012);
    expect(omarsMessages.errors).toEqual([]);
  });

  describe("refuses connections without a valid token, with a close code a client can act on", () => {
    let app: Awaited<ReturnType<typeof startTestServer>>;
    beforeAll(async () => {
      app = await startTestServer();
    });
    afterAll(() => app[Symbol.asyncDispose]());

    it.each([
      ["no token", null],
      ["a forged token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYXJhIn0.c2lnbmF0dXJl"],
      ["garbage", "not-a-jwt"],
    ])("%s in connectionParams", async (_, token) => {
      await using anonymous = connectClient(app.url, token);
      const inbox = record(anonymous.client.chat.onInbox, undefined);
      await waitFor(() => expect(anonymous.closeCodes).toContain(closeCodes.unauthorized));
      expect(inbox.events).toEqual([]);
    });

    it("an expired token", async () => {
      await using late = connectClient(app.url, app.token("sara", "-1s" as "1s"));
      record(late.client.chat.onInbox, undefined);
      await waitFor(() => expect(late.closeCodes).toContain(closeCodes.unauthorized));
    });

    it("closes a live connection when its token expires", async () => {
      await using sara = connectClient(app.url, app.token("sara", "2s"));
      const inbox = record(sara.client.chat.onInbox, undefined);
      await inbox.started;
      expect(sara.closeCodes).toEqual([]);
      await waitFor(() => expect(sara.closeCodes).toContain(closeCodes.unauthorized));
    });

    it("takes the token from the upgrade's Authorization header too", async () => {
      const wsUrl = `${app.url.replace(/^http/, "ws")}/trpc`;
      const refused = new WebSocket(wsUrl, { headers: { authorization: "Bearer not-a-jwt" } });
      const code = await new Promise<number>((resolve) => refused.on("close", resolve));
      expect(code).toBe(closeCodes.unauthorized);

      const accepted = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${app.token("sara")}` } });
      await new Promise((resolve) => accepted.on("open", resolve));
      accepted.send(JSON.stringify({ id: 1, method: "query", params: { path: "auth.me", input: { json: null } } }));
      const reply = await new Promise<string>((resolve) => accepted.on("message", (data) => resolve(String(data))));
      expect(JSON.parse(reply), reply).toMatchObject({ id: 1, result: { data: { json: { id: "sara" } } } });
      accepted.close();
    });

    it("answers HTTP calls without a token with UNAUTHORIZED", async () => {
      await using anonymous = connectClient(app.url, null);
      const error = await anonymous.client.chat.unreadCount.query().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    });
  });

  it("reports database reachability on /healthz", async () => {
    await using app = await startTestServer();
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", database: "up" });
  });
});
