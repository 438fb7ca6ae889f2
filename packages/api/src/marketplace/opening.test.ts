import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { verifyTranscript } from "@naafe/transcript";
import { beforeAll, describe, expect, it } from "vitest";
import { reader } from "../moderation/test-helpers.ts";
import { createTestApp } from "../testing.ts";

beforeAll(prepareTestDatabases);

type App = Awaited<ReturnType<typeof createTestApp>>;

/** Sara posts a job, Omar offers `price`, Sara accepts: the conversation and its job. */
async function accept(app: App, price?: number) {
  const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
  const offer = await app.as("omar").offer.create({ jobRequestId: job.id, ...(price === undefined ? {} : { price }) });
  const { conversation } = await app.as("sara").offer.accept({ offerId: offer.id });
  return { job, offer, conversation };
}

/** What the marketplace's backend sends to POST /service/conversations. */
const offerAccepted = (price?: number) => ({
  offerId: "offer-1",
  jobRequestId: "job-1",
  jobTitle: "Paint the fence",
  ...(price === undefined ? {} : { price }),
  seeker: { id: "sara", name: "Sara" },
  provider: { id: "omar", name: "Omar" },
});

describe.each(testBackends)("a conversation's opening notice on %s", (backend) => {
  it("is its first message: a system message from Naafe naming the price, unread for nobody", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await accept(app, 350);
    const conversationId = conversation.id;
    const notice = {
      seq: 1,
      type: "system",
      senderId: "naafe",
      receiverId: "naafe",
      content: "Offer accepted: 350 EGP",
      masked: false,
      deleted: false,
      attachments: [],
    };
    for (const user of ["sara", "omar"]) {
      expect((await app.as(user).chat.messages({ conversationId })).messages).toEqual([
        expect.objectContaining(notice),
      ]);
      const [listed] = (await app.as(user).chat.conversations()).conversations;
      expect(listed).toMatchObject({
        id: conversationId,
        unreadCount: 0,
        lastMessage: { content: "Offer accepted: 350 EGP", senderId: "naafe", type: "system" },
      });
      expect(await app.as(user).chat.unreadCount()).toEqual({ total: 0 });
    }
    // offer.accept's own answer already shows it.
    expect(conversation).toMatchObject({ unreadCount: 0, lastMessage: { content: "Offer accepted: 350 EGP" } });
    expect(await app.db.prisma.conversation.findUnique({ where: { id: conversationId } })).toMatchObject({
      messageCount: 1,
      lastSystemMessageSeq: 1,
      unreadCountSeeker: 0,
      unreadCountProvider: 0,
    });
    // Nobody is notified of it: nothing is pending for a push or a digest.
    expect(await app.db.prisma.pendingNotification.count()).toBe(0);

    // The first message either side sends comes after it.
    const sent = await app.as("omar").chat.sendMessage({ conversationId, content: "Hello Sara" });
    expect(sent.seq).toBe(2);
    expect((await app.as("sara").chat.conversations()).conversations[0]).toMatchObject({ unreadCount: 1 });
  });

  it.each([
    [350.5, "Offer accepted: 350.5 EGP"],
    [0.05, "Offer accepted: 0.05 EGP"],
    [1_000_000_000, "Offer accepted: 1000000000 EGP"],
    [0, "Offer accepted: 0 EGP"],
    [undefined, "Offer accepted"],
  ])("writes a price of %s as %j", async (price, content) => {
    await using app = await createTestApp(backend);
    const { conversation } = await accept(app, price);
    const { messages } = await app.as("sara").chat.messages({ conversationId: conversation.id });
    expect(messages.map((message) => message.content)).toEqual([content]);
  });

  it("is stored once, however often and concurrently the offer is accepted", async () => {
    await using app = await createTestApp(backend);
    const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
    const offer = await app.as("omar").offer.create({ jobRequestId: job.id, price: 350 });
    await Promise.all(Array.from({ length: 6 }, () => app.as("sara").offer.accept({ offerId: offer.id })));
    await app.as("sara").offer.accept({ offerId: offer.id });
    expect(await app.db.prisma.message.count()).toBe(1);
  });

  it("reaches both participants' open inboxes live", async () => {
    await using app = await createTestApp(backend);
    const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
    const offer = await app.as("omar").offer.create({ jobRequestId: job.id, price: 350 });
    const inboxes = await Promise.all(
      ["sara", "omar"].map((user) => reader((signal) => app.as(user, { signal }).chat.onInbox())),
    );
    const { conversation } = await app.as("sara").offer.accept({ offerId: offer.id });
    for (const inbox of inboxes) {
      expect([await inbox.next(), await inbox.next()]).toEqual([
        { kind: "conversation", conversationId: conversation.id },
        { kind: "message", conversationId: conversation.id },
      ]);
      inbox.stop();
    }
  });

  it("is in the signed export, as the transcript's first message", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await accept(app, 350);
    await app.as("sara").chat.sendMessage({ conversationId: conversation.id, content: "Tomorrow at nine?" });
    const exportable = await app.services.exports.exportable(conversation.id, "sara");
    if (!exportable) throw new Error("sara takes part in the conversation");
    let text = "";
    for await (const chunk of app.services.exports.transcript(exportable, "jsonl", "sara")) text += chunk;
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(1, -1).map((line) => JSON.parse(line))).toMatchObject([
      { seq: 1, senderId: "naafe", receiverId: "naafe", content: "Offer accepted: 350 EGP" },
      { seq: 2, senderId: "sara", content: "Tomorrow at nine?" },
    ]);
    expect(await verifyTranscript(lines, { publicKey: app.services.exports.publicKeyPem })).toMatchObject({
      valid: true,
      messageCount: 2,
    });
  });

  it("is found by search, in both participants' conversations", async () => {
    await using app = await createTestApp(backend);
    const { conversation } = await accept(app, 350);
    for (const user of ["sara", "omar"]) {
      const { results } = await app.as(user).chat.search({ query: "offer accepted 350" });
      expect(results).toMatchObject([{ conversationId: conversation.id, content: "Offer accepted: 350 EGP" }]);
    }
  });

  it("records the conversation.opened event, but no message.created for Naafe's own notice", async () => {
    await using app = await createTestApp(backend, { outbox: { recorded() {} } });
    await accept(app, 350);
    const events = await app.db.prisma.outboxEvent.findMany();
    expect(events.map((event) => event.type)).toEqual(["conversation.opened"]);
  });

  describe("in the same transaction as the conversation", () => {
    it("no notice stored: no conversation, the offer still pending and the job still open", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const offer = await app.as("omar").offer.create({ jobRequestId: job.id, price: 350 });
      await refuseInserts(app, "Message", `NEW."type" = 'system'`);
      await expect(app.as("sara").offer.accept({ offerId: offer.id })).rejects.toThrow();
      expect(await app.db.prisma.conversation.count()).toBe(0);
      expect(await app.db.prisma.offer.findUnique({ where: { id: offer.id } })).toMatchObject({ status: "pending" });
      expect(await app.db.prisma.jobRequest.findUnique({ where: { id: job.id } })).toMatchObject({ status: "open" });

      await allowInserts(app, "Message");
      const { conversation } = await app.as("sara").offer.accept({ offerId: offer.id });
      expect(conversation.lastMessage).toMatchObject({ content: "Offer accepted: 350 EGP" });
    });

    it("no conversation committed (a later write of the transaction fails): no notice either", async () => {
      await using app = await createTestApp(backend, { outbox: { recorded() {} } });
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const offer = await app.as("omar").offer.create({ jobRequestId: job.id, price: 350 });
      // conversation.opened is recorded after the notice: refusing it rolls both back.
      await refuseInserts(app, "OutboxEvent", "true");
      await expect(app.as("sara").offer.accept({ offerId: offer.id })).rejects.toThrow();
      expect(await app.db.prisma.conversation.count()).toBe(0);
      expect(await app.db.prisma.message.count()).toBe(0);
    });

    it("the same through the service API", async () => {
      await using app = await createTestApp(backend);
      await refuseInserts(app, "Message", `NEW."type" = 'system'`);
      await expect(app.services.marketplace.openConversationForOffer(offerAccepted(350))).rejects.toThrow();
      expect(await app.db.prisma.conversation.count()).toBe(0);
      expect(await app.db.prisma.offer.count()).toBe(0);
    });
  });

  describe("through the service API (OfferAccepted)", () => {
    it("names the price the backend gave, once however often it is called", async () => {
      await using app = await createTestApp(backend);
      const inbox = await reader((signal) => app.as("omar", { signal }).chat.onInbox());
      const opened = await app.services.marketplace.openConversationForOffer(offerAccepted(350));
      await app.services.marketplace.openConversationForOffer(offerAccepted(350));
      expect(opened).toMatchObject({
        unreadCount: 0,
        lastMessage: { content: "Offer accepted: 350 EGP", senderId: "naafe" },
      });
      const { messages } = await app.as("omar").chat.messages({ conversationId: opened.id });
      expect(messages).toMatchObject([{ seq: 1, type: "system", content: "Offer accepted: 350 EGP" }]);
      expect([await inbox.next(), await inbox.next()]).toEqual([
        { kind: "conversation", conversationId: opened.id },
        { kind: "message", conversationId: opened.id },
      ]);
      inbox.stop();
    });

    it('says "Offer accepted" when the backend gave no price', async () => {
      await using app = await createTestApp(backend);
      const opened = await app.services.marketplace.openConversationForOffer(offerAccepted());
      const { messages } = await app.as("sara").chat.messages({ conversationId: opened.id });
      expect(messages).toMatchObject([{ seq: 1, type: "system", senderId: "naafe", content: "Offer accepted" }]);
      expect(await app.as("sara").chat.unreadCount()).toEqual({ total: 0 });
    });
  });
});

/** A trigger that makes `table` refuse the rows matching `condition`, as a failing write would. */
async function refuseInserts(app: App, table: string, condition: string) {
  await app.db.prisma.$executeRawUnsafe(`
    CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${condition} THEN RAISE EXCEPTION 'refused by the test'; END IF;
      RETURN NEW;
    END $$`);
  await app.db.prisma.$executeRawUnsafe(
    `CREATE TRIGGER refuse_insert BEFORE INSERT ON "${table}" FOR EACH ROW EXECUTE FUNCTION refuse_insert()`,
  );
}

async function allowInserts(app: App, table: string) {
  await app.db.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_insert ON "${table}"`);
  await app.db.prisma.$executeRawUnsafe("DROP FUNCTION refuse_insert()");
}
