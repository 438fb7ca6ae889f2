import type { PrismaClient } from "@naafe/db";
import type { Conversations } from "../chat/conversations.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { type Publish, topics } from "../platform/bus/event-bus.ts";
import type { Outbox } from "../platform/outbox.ts";
import { createConversation, createMarketplaceSync, publishOpened } from "./sync.ts";

export interface MarketplaceDeps {
  prisma: PrismaClient;
  publish: Publish;
  conversations: Conversations;
  /** Record domain events (conversation.opened) with the changes; none without it. */
  outbox?: Outbox | undefined;
  now?: () => Date;
}

/** Offers shown per job request in a list; one pending offer per provider keeps the rest few. */
const OFFERS_LISTED = 50;

/** Just enough of the marketplace for the seed's flow: job request → offer → accepted → conversation. */
export function createMarketplaceService(deps: MarketplaceDeps) {
  const { prisma, publish, conversations, outbox, now = () => new Date() } = deps;
  return {
    // Driven by the marketplace's own backend over the service API (integration/service-api.ts).
    ...createMarketplaceSync(deps),

    /** Users live in the marketplace's auth system; we keep the id and name its tokens carry. */
    async ensureUser(user: { id: string; name: string | null }) {
      await prisma.user.upsert({
        where: { id: user.id },
        create: { id: user.id, name: user.name },
        update: user.name ? { name: user.name } : {},
      });
    },

    async createJobRequest(seeker: { id: string; name: string | null }, title: string) {
      await this.ensureUser(seeker);
      return prisma.jobRequest.create({ data: { seekerId: seeker.id, title } });
    },

    /** Open job requests and the caller's own, with the offers the caller may see. */
    async listJobRequests(userId: string) {
      const jobRequests = await prisma.jobRequest.findMany({
        where: { OR: [{ status: "open" }, { seekerId: userId }, { offers: { some: { providerId: userId } } }] },
        include: {
          seeker: { select: { id: true, name: true } },
          offers: {
            // A seeker sees every offer on their job; a provider sees only their own.
            where: { OR: [{ jobRequest: { seekerId: userId } }, { providerId: userId }] },
            include: { provider: { select: { id: true, name: true } } },
            orderBy: { createdAt: "asc" },
            take: OFFERS_LISTED,
          },
          conversation: { select: { id: true } },
        },
        orderBy: { createdAt: "desc" },
        take: 100,
      });
      return jobRequests.map(({ conversation, offers, ...job }) => ({
        ...job,
        offers: offers.map(plainOffer),
        // Only participants learn which conversation a job has.
        conversationId:
          job.seekerId === userId || offers.some((offer) => offer.providerId === userId && offer.status === "accepted")
            ? (conversation?.id ?? null)
            : null,
      }));
    },

    async createOffer(provider: { id: string; name: string | null }, jobRequestId: string, price?: number) {
      const job = await prisma.jobRequest.findUnique({ where: { id: jobRequestId } });
      if (!job) throw notFound("This job request");
      if (job.seekerId === provider.id) throw forbidden("You cannot make an offer on your own job request.");
      if (job.status !== "open") throw new DomainError("CONFLICT", "This job request no longer takes offers.");
      await this.ensureUser(provider);
      // One pending offer per provider and job: offers queue on the job's row to check.
      const offer = await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM "JobRequest" WHERE "id" = ${jobRequestId} FOR UPDATE`;
        const pending = await tx.offer.findFirst({
          where: { jobRequestId, providerId: provider.id, status: "pending" },
        });
        if (pending) throw new DomainError("CONFLICT", "You already have a pending offer on this job request.");
        return tx.offer.create({ data: { jobRequestId, providerId: provider.id, price: price ?? null } });
      });
      // The seeker's job list stays live without polling.
      publish(topics.inbox(job.seekerId), { kind: "offer", jobRequestId });
      return plainOffer(offer);
    },

    /**
     * Accepts an offer and opens the conversation, exactly once: concurrent or repeated calls
     * queue on the job request's row, and the conversation is unique per job request.
     */
    async acceptOffer(seekerId: string, offerId: string) {
      const offer = await prisma.offer.findUnique({ where: { id: offerId }, include: { jobRequest: true } });
      if (!offer) throw notFound("This offer");
      if (offer.jobRequest.seekerId !== seekerId)
        throw forbidden("Only the job request's seeker can accept its offers.");

      let rejectedProviders: string[] = [];
      const { accepted, conversationId, notice } = await prisma.$transaction(async (tx) => {
        const claimed = await tx.jobRequest.updateMany({
          where: { id: offer.jobRequestId, status: "open" },
          data: { status: "assigned" },
        });
        if (claimed.count === 0) {
          const current = await tx.offer.findUniqueOrThrow({ where: { id: offerId } });
          const existing = await tx.conversation.findUnique({ where: { jobRequestId: offer.jobRequestId } });
          if (current.status !== "accepted" || !existing) {
            throw new DomainError("CONFLICT", "Another offer was already accepted for this job request.");
          }
          return { accepted: current, conversationId: existing.id, notice: null };
        }
        const accepted = await tx.offer.update({ where: { id: offerId }, data: { status: "accepted" } });
        rejectedProviders = (
          await tx.offer.findMany({
            where: { jobRequestId: offer.jobRequestId, id: { not: offerId }, status: "pending" },
            select: { providerId: true },
          })
        ).map((other) => other.providerId);
        await tx.offer.updateMany({
          where: { jobRequestId: offer.jobRequestId, id: { not: offerId }, status: "pending" },
          data: { status: "rejected" },
        });
        const { conversation, notice } = await createConversation(
          tx,
          { jobRequestId: offer.jobRequestId, seekerId, providerId: offer.providerId, offerId, price: accepted.price },
          { outbox, now },
        );
        return { accepted, conversationId: conversation.id, notice };
      });

      if (notice) {
        outbox?.recorded();
        publishOpened(publish, notice, [seekerId, offer.providerId]);
        for (const userId of new Set(rejectedProviders)) {
          publish(topics.inbox(userId), { kind: "offer", jobRequestId: offer.jobRequestId });
        }
      }
      return { offer: plainOffer(accepted), conversation: await conversations.get(conversationId, seekerId) };
    },
  };
}

export type MarketplaceService = ReturnType<typeof createMarketplaceService>;

/** Prices are exact decimals in the database and plain numbers (in currency units) on the wire. */
function plainOffer<T extends { price: { toNumber(): number } | null }>(offer: T) {
  return { ...offer, price: offer.price === null ? null : offer.price.toNumber() };
}
