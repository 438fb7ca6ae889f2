import type { Database } from "@naafe/db";
import type { TranscriptHeader, TranscriptMessage } from "@naafe/transcript";
import { Zip, ZipDeflate } from "fflate";
import { csvEnd, csvHeader, csvMessage, htmlEnd, htmlMessage, htmlStart } from "./export-formats.ts";
import type { ExportFormat } from "./schemas.ts";
import { createTranscriptChain, type SigningKey } from "./transcript.ts";

/** Messages read per query while exporting: memory stays flat however long the conversation. */
export const EXPORT_PAGE = 1_000;
/** Conversations listed per query for a ZIP of all of a user's. */
const CONVERSATION_PAGE = 200;

export interface ExportDeps {
  db: Pick<Database, "prisma">;
  signingKey: SigningKey;
  now?: () => Date;
}

export interface ExportableConversation {
  id: string;
  title: string;
  /** Messages with seq up to this are exported: those sent during the export are not. */
  messageCount: number;
  participants: TranscriptHeader["participants"];
}

export const contentTypes: Record<ExportFormat | "zip", string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
  zip: "application/zip",
};

export function createExportService({ db, signingKey, now = () => new Date() }: ExportDeps) {
  const { prisma } = db;
  const conversationSelect = {
    id: true,
    messageCount: true,
    participantSeeker: true,
    participantProvider: true,
    seeker: { select: { id: true, name: true } },
    provider: { select: { id: true, name: true } },
    jobRequest: { select: { title: true } },
  } as const;
  type Row = { id: string; messageCount: number; participantSeeker: string; participantProvider: string } & {
    seeker: { id: string; name: string | null };
    provider: { id: string; name: string | null };
    jobRequest: { title: string };
  };
  const toExportable = (row: Row): ExportableConversation => ({
    id: row.id,
    title: row.jobRequest.title,
    messageCount: row.messageCount,
    participants: [
      { id: row.seeker.id, name: row.seeker.name, role: "seeker" },
      { id: row.provider.id, name: row.provider.name, role: "provider" },
    ],
  });

  /** The conversation's messages in seq order, linked into its chain, a page at a time. */
  async function* chained(conversation: ExportableConversation, chain: ReturnType<typeof createTranscriptChain>) {
    let after = 0;
    while (after < conversation.messageCount) {
      const page = await prisma.message.findMany({
        where: { conversationId: conversation.id, seq: { gt: after, lte: conversation.messageCount } },
        orderBy: { seq: "asc" },
        take: EXPORT_PAGE,
        select: { seq: true, id: true, senderId: true, receiverId: true, content: true, timestamp: true, readAt: true },
      });
      for (const message of page) {
        yield chain.add({
          seq: message.seq,
          messageId: message.id,
          senderId: message.senderId,
          receiverId: message.receiverId,
          content: message.content,
          timestamp: message.timestamp.toISOString(),
          readAt: message.readAt?.toISOString() ?? null,
        });
      }
      const last = page.at(-1);
      if (!last || page.length < EXPORT_PAGE) return;
      after = last.seq;
    }
  }

  /** The transcript as text chunks (a line or a message each) in `format`. */
  async function* transcript(conversation: ExportableConversation, format: ExportFormat, userId: string) {
    const header: TranscriptHeader = {
      type: "transcript",
      version: 1,
      conversationId: conversation.id,
      exportedAt: now().toISOString(),
      exportedBy: userId,
      participants: conversation.participants,
      publicKey: signingKey.publicKeyPem,
    };
    const chain = createTranscriptChain(conversation.id, signingKey);
    const people = new Map(conversation.participants.map((person) => [person.id, person]));
    const names = new Map(conversation.participants.map((person) => [person.id, person.name]));
    const render: (message: TranscriptMessage) => string =
      format === "jsonl"
        ? (message) => `${JSON.stringify(message)}\n`
        : format === "csv"
          ? (message) => csvMessage(message, names)
          : (message) => htmlMessage(message, people);
    yield format === "jsonl"
      ? `${JSON.stringify(header)}\n`
      : format === "csv"
        ? csvHeader()
        : htmlStart(header, conversation.title);
    // Messages go out in chunks of about 64 KB, not one write each.
    let pending = "";
    for await (const message of chained(conversation, chain)) {
      pending += render(message);
      if (pending.length < 65_536) continue;
      yield pending;
      pending = "";
    }
    if (pending) yield pending;
    const end = chain.end();
    yield format === "jsonl"
      ? `${JSON.stringify(end)}\n`
      : format === "csv"
        ? csvEnd(end)
        : htmlEnd(end, signingKey.publicKeyPem);
  }

  return {
    publicKeyPem: signingKey.publicKeyPem,
    transcript,

    /** The conversation if `userId` takes part in it; null otherwise, whether it exists or not. */
    async exportable(conversationId: string, userId: string): Promise<ExportableConversation | null> {
      const row = await prisma.conversation.findFirst({
        where: { id: conversationId, OR: [{ participantSeeker: userId }, { participantProvider: userId }] },
        select: conversationSelect,
      });
      return row ? toExportable(row) : null;
    },

    /** Every conversation of `userId` as one JSONL transcript each, in a ZIP, as byte chunks. */
    async *zipAll(userId: string): AsyncGenerator<Uint8Array> {
      const out: Uint8Array[] = [];
      let failure: Error | null = null;
      const zip = new Zip((error, chunk) => {
        if (error) failure = error;
        else out.push(chunk);
      });
      const encoder = new TextEncoder();
      const flush = function* () {
        if (failure) throw failure;
        while (out.length > 0) yield out.shift() as Uint8Array;
      };
      let afterId = "";
      for (;;) {
        const rows = await prisma.conversation.findMany({
          where: { id: { gt: afterId }, OR: [{ participantSeeker: userId }, { participantProvider: userId }] },
          orderBy: { id: "asc" },
          take: CONVERSATION_PAGE,
          select: conversationSelect,
        });
        for (const row of rows) {
          const file = new ZipDeflate(`conversation-${row.id}.jsonl`, { level: 6 });
          zip.add(file);
          for await (const chunk of transcript(toExportable(row), "jsonl", userId)) {
            file.push(encoder.encode(chunk));
            yield* flush();
          }
          file.push(new Uint8Array(0), true);
          yield* flush();
        }
        const last = rows.at(-1);
        if (!last || rows.length < CONVERSATION_PAGE) break;
        afterId = last.id;
      }
      zip.end();
      yield* flush();
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
