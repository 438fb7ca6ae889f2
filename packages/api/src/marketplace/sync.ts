import type { Prisma, PrismaClient } from "@naafe/db";
import type { Conversations } from "../chat/conversations.ts";
import { notices } from "../chat/notices.ts";
import { NAAFE, publishSystemMessage, setConversationOpen, storeSystemMessage } from "../chat/system-messages.ts";
import { DomainError, notFound } from "../errors.ts";
import { type MessageEvent, type Publish, topics } from "../platform/bus/event-bus.ts";
import { conversationEvent, type Outbox, recordEvent } from "../platform/outbox.ts";

/**
 * The marketplace as its own backend drives it (the service API): users, job requests and offers
 * live there, and arrive here already decided. Opening a conversation shares `createConversation`
 * with our own `offer.accept`.
 */
export interface MarketplaceSyncDeps {
  prisma: PrismaClient;
  publish: Publish;
  conversations: Conversations;
  outbox?: Outbox | undefined;
  now?: () => Date;
}

export interface Party {
  id: string;
  name: string;
  email?: string | undefined;
}

export interface OfferAccepted {
  offerId: string;
  jobRequestId: string;
  jobTitle: string;
  price?: number | undefined;
  seeker: Party;
  provider: Party;
}

interface NewConversation {
  jobRequestId: string;
  seekerId: string;
  providerId: string;
  offerId: string | null;
  /** The accepted offer's price, named in the opening notice; none when the offer gave none. */
  price: Prisma.Decimal | null;
}

/** The notice a conversation opens with: "Offer accepted: 350 EGP" (`toFixed()`: no ".00", no exponent). */
export function offerAcceptedNotice(price: Prisma.Decimal | null) {
  return notices.offerAccepted(price === null ? null : price.toFixed());
}

/**
 * Creates a job request's conversation in `tx` with its opening notice (seq 1, unread for nobody)
 * and its `conversation.opened` event when events are on. Returns the notice to publish once `tx`
 * committed (`publishOpened`).
 */
export async function createConversation(
  tx: Prisma.TransactionClient,
  { jobRequestId, seekerId, providerId, offerId, price }: NewConversation,
  { outbox, now = () => new Date() }: Pick<MarketplaceSyncDeps, "outbox" | "now">,
) {
  const at = now();
  const conversation = await tx.conversation.create({
    // Created when its notice is, by the same clock.
    data: { jobRequestId, participantSeeker: seekerId, participantProvider: providerId, createdAt: at },
  });
  const notice = await storeSystemMessage(
    tx,
    { conversationId: conversation.id, senderId: NAAFE, receiverId: NAAFE, content: offerAcceptedNotice(price) },
    at,
  );
  if (outbox) await recordEvent(tx, "conversation.opened", conversationEvent(conversation, offerId), at);
  return { conversation, notice };
}

/** After the commit of `createConversation`: both participants' lists learn of the conversation and its notice. */
export function publishOpened(publish: Publish, notice: MessageEvent, participants: string[]) {
  for (const userId of participants) {
    publish(topics.inbox(userId), { kind: "conversation", conversationId: notice.conversationId });
  }
  publishSystemMessage(publish, notice, participants);
}

const conflict = (message: string) => new DomainError("CONFLICT", message);

export function createMarketplaceSync(deps: MarketplaceSyncDeps) {
  const { prisma, publish, conversations, outbox, now = () => new Date() } = deps;

  async function openOnce(input: OfferAccepted) {
    const { offerId, jobRequestId, seeker, provider } = input;
    return prisma.$transaction(async (tx) => {
      for (const party of [seeker, provider]) {
        const profile = { name: party.name, ...(party.email ? { email: party.email } : {}) };
        await tx.user.upsert({ where: { id: party.id }, create: { id: party.id, ...profile }, update: profile });
      }
      const job = await tx.jobRequest.upsert({
        where: { id: jobRequestId },
        create: { id: jobRequestId, seekerId: seeker.id, title: input.jobTitle, status: "assigned" },
        update: { title: input.jobTitle },
      });
      if (job.seekerId !== seeker.id) throw conflict("This job request belongs to another seeker.");
      const offer = await tx.offer.upsert({
        where: { id: offerId },
        create: { id: offerId, jobRequestId, providerId: provider.id, status: "accepted", price: input.price ?? null },
        update: { status: "accepted" },
      });
      if (offer.jobRequestId !== jobRequestId || offer.providerId !== provider.id) {
        throw conflict("This offer was opened earlier for another job request or provider.");
      }
      const existing = await tx.conversation.findUnique({ where: { jobRequestId } });
      if (existing) {
        if (existing.participantProvider !== provider.id) {
          throw conflict("This job request already has a conversation with another provider.");
        }
        return { conversationId: existing.id, notice: null };
      }
      const { conversation, notice } = await createConversation(
        tx,
        { jobRequestId, seekerId: seeker.id, providerId: provider.id, offerId, price: offer.price },
        { outbox, now },
      );
      return { conversationId: conversation.id, notice };
    });
  }

  return {
    /** Opens the conversation for an accepted offer; the same one for the same offer, however often or concurrently. */
    async openConversationForOffer(input: OfferAccepted) {
      let opened: { conversationId: string; notice: MessageEvent | null } | undefined;
      // Concurrent first calls race to insert the same rows; the losers find the winner's on a retry.
      for (let attempt = 0; !opened; attempt++) {
        try {
          opened = await openOnce(input);
        } catch (error) {
          if (attempt >= 2 || !isUniqueViolation(error)) throw error;
        }
      }
      if (opened.notice) {
        outbox?.recorded();
        publishOpened(publish, opened.notice, [input.seeker.id, input.provider.id]);
      }
      return conversations.get(opened.conversationId, input.seeker.id);
    },

    /** Closes (read-only) or reopens a conversation, with a notice; doing it twice changes nothing the second time. */
    async setConversationActive(conversationId: string, active: boolean) {
      const notice = active ? notices.reopened : notices.closed;
      const change = { conversationId, open: active, notice, reason: active ? null : "closed by the marketplace" };
      await setConversationOpen({ prisma, publish, outbox }, change, now());
      const { participantSeeker } = await prisma.conversation.findUniqueOrThrow({ where: { id: conversationId } });
      return conversations.get(conversationId, participantSeeker);
    },

    /** A notice from the marketplace both participants see (a job rescheduled, a payment received). */
    async postSystemMessage(conversationId: string, content: string) {
      const event = await prisma.$transaction(async (tx) => {
        const conversation = await tx.conversation.findUnique({ where: { id: conversationId } });
        if (!conversation) throw notFound("This conversation");
        const stored = await storeSystemMessage(
          tx,
          { conversationId, senderId: NAAFE, receiverId: NAAFE, content },
          now(),
        );
        return { stored, participants: [conversation.participantSeeker, conversation.participantProvider] };
      });
      publishSystemMessage(publish, event.stored, event.participants);
      const { messageId, seq, timestamp, type } = event.stored;
      return { messageId, conversationId, seq, content, type, timestamp };
    },

    /** Creates or updates a user's profile as the marketplace knows it. */
    async upsertUser(user: {
      id: string;
      name?: string | undefined;
      email?: string | null;
      avatarUrl?: string | null;
    }) {
      const profile = {
        ...(user.name !== undefined ? { name: user.name } : {}),
        ...(user.email !== undefined ? { email: user.email } : {}),
        ...(user.avatarUrl !== undefined ? { avatarUrl: user.avatarUrl } : {}),
      };
      const row = await prisma.user.upsert({
        where: { id: user.id },
        create: { id: user.id, ...profile },
        update: profile,
      });
      return { id: row.id, name: row.name, email: row.email, avatarUrl: row.avatarUrl, updatedAt: row.updatedAt };
    },
  };
}

/** A unique constraint refused the row: Prisma's P2002, or its driver adapter's own report of it. */
function isUniqueViolation(error: unknown): boolean {
  const { code, meta } = (error ?? {}) as {
    code?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown } } };
  };
  return code === "P2002" || meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation";
}
