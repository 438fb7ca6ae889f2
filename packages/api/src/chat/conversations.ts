import type { Conversation, PrismaClient } from "@naafe/db";
import { forbidden, notFound } from "../errors.ts";
import type { ContactMaskingMode } from "../moderation/masking.ts";
import { lastMessageView } from "../moderation/views.ts";

type Participants = Pick<Conversation, "id" | "participantSeeker" | "participantProvider">;

/** How many conversations' participants are kept in memory; participants never change. */
const PARTICIPANTS_CACHED = 50_000;

const userSummary = { select: { id: true, name: true } } as const;
const conversationInclude = {
  seeker: userSummary,
  provider: userSummary,
  jobRequest: { select: { id: true, title: true, status: true } },
} as const;

type ConversationRow = Conversation & {
  seeker: { id: string; name: string | null };
  provider: { id: string; name: string | null };
  jobRequest: { id: string; title: string; status: string };
};

export type Role = "seeker" | "provider";

/** Who may see a conversation, and how it looks to each of its two participants. */
export interface ConversationsDeps {
  prisma: PrismaClient;
  /** When contact details in lastMessage are masked for its receiver (default: until the job is completed). */
  contactMasking?: ContactMaskingMode | undefined;
}

export function createConversations({ prisma, contactMasking = "until-completed" }: ConversationsDeps) {
  // Read on every send and subscription: the hot path must not ask the database each time.
  const participantsCache = new Map<string, Participants>();

  async function participantsOf(conversationId: string): Promise<Participants> {
    const cached = participantsCache.get(conversationId);
    if (cached) return cached;
    const found = await prisma.conversation.findUnique({
      where: { id: conversationId },
      select: { id: true, participantSeeker: true, participantProvider: true },
    });
    if (!found) throw notFound("This conversation");
    if (participantsCache.size >= PARTICIPANTS_CACHED) participantsCache.clear();
    participantsCache.set(conversationId, found);
    return found;
  }

  /** The caller's role and the other participant; throws unless `userId` is one of the two. */
  async function assertParticipant(conversationId: string, userId: string): Promise<{ role: Role; otherId: string }> {
    const conversation = await participantsOf(conversationId);
    const role = roleOf(conversation, userId);
    if (!role) throw forbidden("You are not a participant in this conversation.");
    const otherId = role === "seeker" ? conversation.participantProvider : conversation.participantSeeker;
    return { role, otherId };
  }

  return {
    assertParticipant,

    /** The caller's conversations, most recent first. */
    async list(userId: string, { page, limit }: { page: number; limit: number }) {
      const where = { OR: [{ participantSeeker: userId }, { participantProvider: userId }] };
      const [rows, total] = await Promise.all([
        prisma.conversation.findMany({
          where,
          include: conversationInclude,
          orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
          skip: (page - 1) * limit,
          take: limit,
        }),
        prisma.conversation.count({ where }),
      ]);
      return {
        conversations: rows.map((row) => viewOf(row, userId, contactMasking)),
        pagination: { page, limit, total, pages: Math.ceil(total / limit) },
      };
    },

    async get(conversationId: string, userId: string) {
      await assertParticipant(conversationId, userId);
      const row = await prisma.conversation.findUniqueOrThrow({
        where: { id: conversationId },
        include: conversationInclude,
      });
      return viewOf(row, userId, contactMasking);
    },

    /** A stranger learns nothing: not whether the job exists, nor whether it has a conversation. */
    async byJobRequest(jobRequestId: string, userId: string) {
      const row = await prisma.conversation.findUnique({ where: { jobRequestId }, include: conversationInclude });
      if (!row || !roleOf(row, userId)) throw notFound("A conversation for this job request");
      return viewOf(row, userId, contactMasking);
    },

    async unreadCount(userId: string) {
      const [asSeeker, asProvider] = await Promise.all([
        prisma.conversation.aggregate({ where: { participantSeeker: userId }, _sum: { unreadCountSeeker: true } }),
        prisma.conversation.aggregate({ where: { participantProvider: userId }, _sum: { unreadCountProvider: true } }),
      ]);
      return { total: (asSeeker._sum.unreadCountSeeker ?? 0) + (asProvider._sum.unreadCountProvider ?? 0) };
    },

    /** The seq of the conversation's newest message (0 when it has none). */
    async lastSeq(conversationId: string) {
      const found = await prisma.conversation.findUniqueOrThrow({
        where: { id: conversationId },
        select: { messageCount: true },
      });
      return found.messageCount;
    },
  };
}

export type Conversations = ReturnType<typeof createConversations>;

function roleOf(conversation: Participants, userId: string): Role | null {
  if (conversation.participantSeeker === userId) return "seeker";
  if (conversation.participantProvider === userId) return "provider";
  return null;
}

/** A conversation as one participant sees it. */
function viewOf(conversation: ConversationRow, userId: string, contactMasking: ContactMaskingMode) {
  const role = roleOf(conversation, userId) ?? "seeker";
  return {
    id: conversation.id,
    jobRequestId: conversation.jobRequestId,
    jobRequest: conversation.jobRequest,
    participants: { seeker: conversation.seeker, provider: conversation.provider },
    /** Whom the caller talks to. */
    otherParticipant: role === "seeker" ? conversation.provider : conversation.seeker,
    role,
    // Masked for its receiver, or "deleted" (moderation/views.ts).
    lastMessage: lastMessageView(conversation, userId, contactMasking),
    /** The caller's unread messages in this conversation. */
    unreadCount: role === "seeker" ? conversation.unreadCountSeeker : conversation.unreadCountProvider,
    isActive: conversation.isActive,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
  };
}
