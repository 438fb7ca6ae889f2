import { signToken } from "@naafe/api";
import { describe, expect, it, vi } from "vitest";
import { connectClient, record, SECRET, startTestServer } from "./harness.ts";

const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 20_000, interval: 20 });

describe("trust and safety over real sockets", () => {
  it("masks a phone number for the seeker, shares contact on purpose, unmasks after completion, and a moderator closes the conversation", async () => {
    await using app = await startTestServer();
    await using sara = connectClient(app.url, app.token("sara"));
    const omarToken = signToken({ secret: SECRET }, { id: "omar", name: "Omar", phone: "+20 100 765 4321" });
    await using omar = connectClient(app.url, omarToken);
    await using moderator = connectClient(app.url, signToken({ secret: SECRET }, { id: "mod", role: "moderator" }));

    const job = await sara.client.jobRequest.create.mutate({ title: "Fix a leaking kitchen tap" });
    const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 80 });
    const { conversation } = await sara.client.offer.accept.mutate({ offerId: offer.id });
    const conversationId = conversation.id;
    const sarasMessages = record(sara.client.chat.onMessage, { conversationId });
    const omarsMessages = record(omar.client.chat.onMessage, { conversationId });
    await Promise.all([sarasMessages.started, omarsMessages.started]);

    const sent = await omar.client.chat.sendMessage.mutate({ conversationId, content: "call me on 0100 123 4567" });
    expect(sent.maskedForReceiver).toBe(true);
    await waitFor(() => expect(sarasMessages.events).toHaveLength(1));
    expect(sarasMessages.events[0]?.data).toMatchObject({ masked: true, content: "call me on •••" });

    await omar.client.chat.shareContact.mutate({ conversationId });
    await waitFor(() => expect(sarasMessages.events).toHaveLength(2));
    expect(sarasMessages.events[1]?.data).toMatchObject({ type: "system", masked: false });
    expect(sarasMessages.events[1]?.data.content).toContain("+20 100 765 4321");

    await sara.client.jobRequest.setStatus.mutate({ jobRequestId: job.id, status: "completed" });
    await omar.client.chat.sendMessage.mutate({ conversationId, content: "thanks! 0100 123 4567 for next time" });
    await waitFor(() => expect(sarasMessages.events).toHaveLength(3));
    expect(sarasMessages.events[2]?.data).toMatchObject({
      masked: false,
      content: "thanks! 0100 123 4567 for next time",
    });

    const { reportId } = await sara.client.chat.report.mutate({ conversationId, reason: "harassment" });
    const { reports } = await moderator.client.moderation.reports.query();
    expect(reports.map((report) => report.id)).toContain(reportId);
    await moderator.client.moderation.closeConversation.mutate({ conversationId, reason: "harassment confirmed" });
    for (const messages of [sarasMessages, omarsMessages]) {
      await waitFor(() =>
        expect(messages.events.at(-1)?.data).toMatchObject({
          type: "system",
          content: "This conversation was closed by Naafe.",
        }),
      );
    }
    await expect(omar.client.chat.sendMessage.mutate({ conversationId, content: "hello?" })).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
    expect((await sara.client.chat.conversation.query({ conversationId })).isActive).toBe(false);
    sarasMessages.stop();
    omarsMessages.stop();
  });
});
