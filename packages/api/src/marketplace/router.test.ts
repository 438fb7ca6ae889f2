import { prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApp } from "../testing.ts";

beforeAll(prepareTestDatabases);

describe.each(testBackends)("marketplace on %s", (backend) => {
  it("makes the caller the seeker of a job request, and creates the user from the token", async () => {
    await using app = await createTestApp(backend);
    const job = await app.as("sara").jobRequest.create({ title: "  Fix the kitchen sink  " });
    expect(job).toMatchObject({ seekerId: "sara", title: "Fix the kitchen sink", status: "open" });
    expect(await app.db.prisma.user.findUnique({ where: { id: "sara" } })).toMatchObject({ name: "sara" });
  });

  it.each([
    ["too short", { title: "ab" }],
    ["too long", { title: "x".repeat(201) }],
    ["missing", {}],
    ["not text", { title: 42 }],
  ])("rejects a title that is %s with BAD_REQUEST", async (_, input) => {
    await using app = await createTestApp(backend);
    // @ts-expect-error: hostile input on purpose
    await expect(app.as("sara").jobRequest.create(input)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await app.db.prisma.jobRequest.count()).toBe(0);
  });

  it("needs a signed-in caller", async () => {
    await using app = await createTestApp(backend);
    await expect(app.as(null).jobRequest.create({ title: "Fix it" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(app.as(null).offer.accept({ offerId: "x" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  describe("offer.create", () => {
    it("makes the caller the provider, with an exact price", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const offer = await app.as("omar").offer.create({ jobRequestId: job.id, price: 120.5 });
      expect(offer).toMatchObject({ jobRequestId: job.id, providerId: "omar", status: "pending", price: 120.5 });
    });

    it("refuses an offer on one's own job request", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      await expect(app.as("sara").offer.create({ jobRequestId: job.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    });

    it("answers NOT_FOUND for an unknown job request", async () => {
      await using app = await createTestApp(backend);
      await expect(app.as("omar").offer.create({ jobRequestId: "missing" })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
    });

    it.each([
      ["negative", -1],
      ["fractions of a cent", 10.001],
      ["absurd", 1e12],
      ["not a number", Number.NaN],
    ])("rejects a %s price with BAD_REQUEST", async (_, price) => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      await expect(app.as("omar").offer.create({ jobRequestId: job.id, price })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      expect(await app.db.prisma.offer.count()).toBe(0);
    });

    it("allows one pending offer per provider and job, also when two arrive at once", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const outcomes = await Promise.allSettled([
        app.as("omar").offer.create({ jobRequestId: job.id, price: 100 }),
        app.as("omar").offer.create({ jobRequestId: job.id, price: 90 }),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      expect(outcomes.find((o) => o.status === "rejected")).toMatchObject({ reason: { code: "CONFLICT" } });
      expect(await app.db.prisma.offer.count({ where: { jobRequestId: job.id } })).toBe(1);
      await expect(app.as("lina").offer.create({ jobRequestId: job.id })).resolves.toMatchObject({
        providerId: "lina",
      });
    });

    it("refuses a title with direction overrides or nothing visible", async () => {
      await using app = await createTestApp(backend);
      for (const title of ["Fix \u202Ekcis\u202C", "\u200b\u200b\u200b\u200b"]) {
        await expect(app.as("sara").jobRequest.create({ title })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      }
      expect(await app.db.prisma.jobRequest.count()).toBe(0);
    });

    it("refuses offers once the job is assigned", async () => {
      await using app = await createTestApp(backend);
      const { job } = await app.openConversation("sara", "omar");
      await expect(app.as("lina").offer.create({ jobRequestId: job.id })).rejects.toMatchObject({ code: "CONFLICT" });
    });
  });

  describe("offer.accept", () => {
    it("opens the conversation between seeker and provider, and rejects the other offers", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const omars = await app.as("omar").offer.create({ jobRequestId: job.id });
      const linas = await app.as("lina").offer.create({ jobRequestId: job.id });
      const { offer, conversation } = await app.as("sara").offer.accept({ offerId: omars.id });
      expect(offer.status).toBe("accepted");
      expect(conversation).toMatchObject({
        jobRequestId: job.id,
        participants: { seeker: { id: "sara" }, provider: { id: "omar" } },
        isActive: true,
        unreadCount: 0,
      });
      expect(await app.db.prisma.offer.findUnique({ where: { id: linas.id } })).toMatchObject({ status: "rejected" });
      expect(await app.db.prisma.jobRequest.findUnique({ where: { id: job.id } })).toMatchObject({
        status: "assigned",
      });
    });

    it("lets only the job's seeker accept", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const offer = await app.as("omar").offer.create({ jobRequestId: job.id });
      for (const caller of ["omar", "lina"]) {
        await expect(app.as(caller).offer.accept({ offerId: offer.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
      }
      expect(await app.db.prisma.conversation.count()).toBe(0);
    });

    it("creates exactly one conversation when called twice or concurrently", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const offer = await app.as("omar").offer.create({ jobRequestId: job.id });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => app.as("sara").offer.accept({ offerId: offer.id })),
      );
      const again = await app.as("sara").offer.accept({ offerId: offer.id });
      const ids = new Set([...results, again].map((result) => result.conversation.id));
      expect(ids.size).toBe(1);
      expect(await app.db.prisma.conversation.count()).toBe(1);
    });

    it("refuses a second offer once one is accepted, even concurrently", async () => {
      await using app = await createTestApp(backend);
      const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
      const omars = await app.as("omar").offer.create({ jobRequestId: job.id });
      const linas = await app.as("lina").offer.create({ jobRequestId: job.id });
      const outcomes = await Promise.allSettled([
        app.as("sara").offer.accept({ offerId: omars.id }),
        app.as("sara").offer.accept({ offerId: linas.id }),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
      const [failure] = outcomes.filter((outcome) => outcome.status === "rejected");
      expect(failure?.reason).toMatchObject({ code: "CONFLICT" });
      expect(await app.db.prisma.conversation.count()).toBe(1);
      expect(await app.db.prisma.offer.count({ where: { status: "accepted" } })).toBe(1);
    });

    it("answers NOT_FOUND for an unknown offer", async () => {
      await using app = await createTestApp(backend);
      await expect(app.as("sara").offer.accept({ offerId: "missing" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    });
  });

  it("tells the seeker about new offers, and the other providers when their offer lost, through onInbox", async () => {
    await using app = await createTestApp(backend);
    const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
    const controller = new AbortController();
    const saras = await app.as("sara", { signal: controller.signal }).chat.onInbox();
    const linas = await app.as("lina", { signal: controller.signal }).chat.onInbox();
    const omars = await app.as("omar").offer.create({ jobRequestId: job.id });
    await app.as("lina").offer.create({ jobRequestId: job.id });
    const { conversation } = await app.as("sara").offer.accept({ offerId: omars.id });
    const first = async <T>(events: AsyncIterable<T>, count: number) => {
      const seen: T[] = [];
      for await (const event of events) if (seen.push(event) === count) break;
      return seen;
    };
    expect(await first(saras, 3)).toEqual([
      { kind: "offer", jobRequestId: job.id },
      { kind: "offer", jobRequestId: job.id },
      { kind: "conversation", conversationId: conversation.id },
    ]);
    expect(await first(linas, 1)).toEqual([{ kind: "offer", jobRequestId: job.id }]);
    controller.abort();
  });

  it("lists open jobs to everyone, but each offer only to its job's seeker and its provider", async () => {
    await using app = await createTestApp(backend);
    const job = await app.as("sara").jobRequest.create({ title: "Paint the fence" });
    await app.as("omar").offer.create({ jobRequestId: job.id, price: 100 });
    await app.as("lina").offer.create({ jobRequestId: job.id, price: 90 });
    const offersSeenBy = async (user: string) =>
      (await app.as(user).jobRequest.list()).find((j) => j.id === job.id)?.offers.map((o) => o.providerId);
    expect(await offersSeenBy("sara")).toEqual(["omar", "lina"]);
    expect(await offersSeenBy("omar")).toEqual(["omar"]);
    expect(await offersSeenBy("stranger")).toEqual([]);
  });
});
