import { createChatClient, isChatError } from "@naafe/client";
import { describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { closeCodes } from "../src/ws/admission.ts";
import { connectClient, record, startTestServer } from "./harness.ts";

const waitFor = (assertion: () => void, timeout = 20_000) => vi.waitFor(assertion, { timeout, interval: 20 });

async function openConversation(app: Awaited<ReturnType<typeof startTestServer>>) {
  await using sara = connectClient(app.url, app.token("sara"));
  await using omar = connectClient(app.url, app.token("omar"));
  const job = await sara.client.jobRequest.create.mutate({ title: "Paint the hallway" });
  const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 300 });
  const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
  return conversation.id;
}

function chatClient(url: string, getToken: () => string, extra: { onClose?: (code: number | undefined) => void } = {}) {
  return createChatClient({
    url,
    getToken,
    renewBeforeMs: 1_500,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    ...extra,
  });
}

describe("createChatClient", () => {
  // Token expiry is wall-clock time on the server (a JWT's `exp`, in seconds): these tests wait
  // for a two-second token to run out.
  it("hands the open WebSocket a fresh token before the old one expires: the subscription outlives it", async () => {
    await using app = await startTestServer();
    const conversationId = await openConversation(app);
    const shortLived = app.token("omar", "2s");
    const expiresAt = Date.now() + 2_000;
    const tokens = [shortLived, app.token("omar")];
    let asked = 0;
    const closes: (number | undefined)[] = [];
    const omar = chatClient(app.url, () => tokens[Math.min(asked++, 1)] as string, {
      onClose: (code) => closes.push(code),
    });
    const messages = record(omar.client.chat.onMessage, { conversationId });
    await messages.started;

    await waitFor(() => expect(Date.now()).toBeGreaterThan(expiresAt + 1_000), 10_000);
    await using sara = connectClient(app.url, app.token("sara"));
    await sara.client.chat.sendMessage.mutate({ conversationId, content: "Still there?" });
    await waitFor(() => expect(messages.events.map((event) => event.data.content)).toEqual(["Still there?"]));
    expect(closes).toEqual([]);
    expect(asked).toBeGreaterThanOrEqual(2);
    omar.close();
  });

  it("without a fresh token, the server closes the connection at the token's expiry (4401)", async () => {
    await using app = await startTestServer();
    const conversationId = await openConversation(app);
    const shortLived = app.token("omar", "2s");
    const closes: (number | undefined)[] = [];
    const omar = chatClient(app.url, () => shortLived, { onClose: (code) => closes.push(code) });
    const messages = record(omar.client.chat.onMessage, { conversationId });
    await messages.started;
    await waitFor(() => expect(closes).toContain(closeCodes.unauthorized), 10_000);
    omar.close();
  });

  it("refuses a renewal with another user's token, a forged token, or over HTTP", async () => {
    await using app = await startTestServer();
    const conversationId = await openConversation(app);
    const omar = chatClient(app.url, () => app.token("omar"));
    const messages = record(omar.client.chat.onMessage, { conversationId });
    await messages.started;
    const refusal = (token: string) =>
      omar.client.auth.renew.mutate({ token }).then(
        () => null,
        (error: unknown) => (isChatError(error) ? `${error.data?.code} ${error.message}` : error),
      );
    expect(await refusal(app.token("sara"))).toMatch(/^FORBIDDEN /);
    expect(await refusal(`${app.token("omar")}x`)).toMatch(/^UNAUTHORIZED /);
    expect(await omar.client.auth.renew.mutate({ token: app.token("omar") })).toMatchObject({
      expiresAt: expect.any(Date),
    });

    await using overHttp = connectClient(app.url, app.token("omar"));
    await expect(overHttp.client.auth.renew.mutate({ token: app.token("omar") })).rejects.toMatchObject({
      data: { code: "BAD_REQUEST" },
    });
    omar.close();
  });
});
