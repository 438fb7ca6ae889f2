import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Attachment, Database } from "@naafe/db";
import type { Conversations } from "../chat/conversations.ts";
import { badRequest, DomainError, notFound } from "../errors.ts";
import type { MessageAttachment } from "../platform/bus/event-bus.ts";
import { type BlobStorage, BlobTooLarge, createDiskStorage } from "../platform/storage.ts";
import {
  type AttachmentLimits,
  cleanFileName,
  DEFAULT_LIMITS,
  detectType,
  megabytes,
  processImage,
  SNIFF_BYTES,
  tooLarge,
} from "./checks.ts";
import type { CreateUploadInput } from "./schemas.ts";

/** What a message carries about each attachment; links are signed for each reader when shown. */
export type AttachmentMeta = MessageAttachment;

/** An attachment as a participant sees it: links anyone holding them may GET until they expire. */
export interface AttachmentView {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  width?: number;
  height?: number;
  url: string;
  thumbnailUrl?: string;
}

type MessageType = "text" | "image" | "file" | "system";

export type LinkPurpose = "upload" | "file" | "thumbnail";

export interface AttachmentOptions {
  storage: BlobStorage;
  /** Signs upload and download links; the same on every instance. */
  urlSecret: string;
  /** The origin links start with (`https://chat.example.com`); links are relative without it. */
  publicUrl?: (() => string | undefined) | undefined;
  limits?: Partial<AttachmentLimits> | undefined;
  /** How long after its upload starts an attachment may be bound to a message; unbound ones are deleted after. */
  bindWindowMs?: number | undefined;
  /** How long links stay valid (at most 15 minutes). */
  linkSeconds?: number | undefined;
}

export interface AttachmentsDeps {
  db: Pick<Database, "prisma" | "query">;
  conversations: Conversations;
  now: () => Date;
  options?: Partial<AttachmentOptions> | undefined;
}

const MAX_LINK_SECONDS = 15 * 60;

/** Where an upload's unchecked bytes land, and where checked images and thumbnails go. */
const keys = {
  upload: (id: string) => `uploads/${id}`,
  image: (id: string) => `images/${id}`,
  thumbnail: (id: string) => `thumbnails/${id}`,
};

/** Uploads, their checks, binding to messages, and signed links. */
export function createAttachments({ db, conversations, now, options = {} }: AttachmentsDeps) {
  const { prisma } = db;
  // Tests and tools that pass no storage get a private folder, created on first use.
  const storage = options.storage ?? createDiskStorage(join(tmpdir(), `naafe-attachments-${randomUUID()}`));
  const secret = options.urlSecret ?? randomBytes(32).toString("base64url");
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const bindWindowMs = options.bindWindowMs ?? 60 * 60_000;
  const linkSeconds = Math.min(options.linkSeconds ?? MAX_LINK_SECONDS, MAX_LINK_SECONDS);

  const signature = (purpose: LinkPurpose, id: string, expires: number) =>
    createHmac("sha256", secret).update(`${purpose}\n${id}\n${expires}`).digest("base64url");

  /** A link to `/uploads/<id>[/thumbnail]`, valid until `linkSeconds` from now. */
  function link(purpose: LinkPurpose, id: string) {
    const expires = Math.floor(now().getTime() / 1000) + linkSeconds;
    const path = `/uploads/${id}${purpose === "thumbnail" ? "/thumbnail" : ""}`;
    return `${options.publicUrl?.() ?? ""}${path}?expires=${expires}&signature=${signature(purpose, id, expires)}`;
  }

  /** Whether a link's signature is ours and it has not expired. */
  function verify(purpose: LinkPurpose, id: string, expires: string | null, given: string | null) {
    if (!expires || !given || !/^\d{1,12}$/.test(expires)) return false;
    if (Number(expires) * 1000 < now().getTime()) return false;
    const expected = Buffer.from(signature(purpose, id, Number(expires)));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  function view(meta: AttachmentMeta): AttachmentView {
    return {
      id: meta.id,
      name: meta.name,
      mimeType: meta.mimeType,
      size: meta.size,
      ...(meta.width !== null && meta.height !== null ? { width: meta.width, height: meta.height } : {}),
      url: link("file", meta.id),
      ...(meta.hasThumbnail ? { thumbnailUrl: link("thumbnail", meta.id) } : {}),
    };
  }

  /** Removes an upload that failed or was refused, bytes and row: nothing of it stays. */
  async function discard(row: Pick<Attachment, "id" | "storageKey" | "thumbnailKey">) {
    const blobs = new Set([keys.upload(row.id), keys.image(row.id), keys.thumbnail(row.id), row.storageKey]);
    await Promise.all([...blobs].map((key) => storage.delete(key)));
    await prisma.attachment.deleteMany({ where: { id: row.id } });
  }

  /** The first `bytes` of a blob (fewer if it is shorter). */
  async function readStart(key: string, bytes: number): Promise<Buffer> {
    const stream = await storage.get(key);
    if (!stream) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) break;
    }
    stream.destroy();
    return Buffer.concat(chunks).subarray(0, bytes);
  }

  /**
   * Checks an upload's bytes and stores the result: the type from its magic bytes against the
   * allow-list, the size limit of that type, and for images a re-encoded copy without metadata
   * and a thumbnail. A refused upload is discarded (bytes and row) and the error names the file.
   */
  async function check(row: Attachment): Promise<Attachment> {
    const uploadKey = keys.upload(row.id);
    const size = await storage.size(uploadKey);
    if (size === null) throw badRequest(`“${row.name}” has not been uploaded yet.`);
    try {
      if (size !== row.size) {
        throw badRequest(`“${row.name}” arrived incomplete (${size} of ${row.size} bytes); upload it again.`);
      }
      const { mimeType, kind } = await detectType(row.name, row.mimeType, await readStart(uploadKey, SNIFF_BYTES));
      const max = kind === "image" ? limits.imageBytes : limits.fileBytes;
      if (size > max) throw tooLarge(row.name, `it is ${megabytes(size)}; the most is ${megabytes(max)}.`);
      let checked: Partial<Attachment> = { mimeType, size, storageKey: uploadKey };
      if (kind === "image") {
        // Decoding needs the whole image; images are bounded by `imageBytes`.
        const processed = await processImage(row.name, await readStart(uploadKey, max), mimeType, limits.maxPixels);
        await storage.put(keys.image(row.id), Readable.from([processed.image]), { contentType: mimeType });
        await storage.put(keys.thumbnail(row.id), Readable.from([processed.thumbnail]), { contentType: "image/webp" });
        await storage.delete(uploadKey);
        checked = {
          mimeType,
          size: processed.image.length,
          width: processed.width,
          height: processed.height,
          storageKey: keys.image(row.id),
          thumbnailKey: keys.thumbnail(row.id),
        };
      }
      return await prisma.attachment.update({ where: { id: row.id }, data: { ...checked, status: "ready" } });
    } catch (error) {
      // A refused file goes; one that storage or the database failed on stays to be checked again.
      if (error instanceof DomainError) await discard(row);
      throw error;
    }
  }

  const metaOf = (row: Attachment): AttachmentMeta => ({
    id: row.id,
    name: row.name,
    mimeType: row.mimeType,
    size: row.size,
    width: row.width,
    height: row.height,
    hasThumbnail: row.thumbnailKey !== null,
  });

  /** What each of these messages carries (only messages of type image or file carry anything). */
  async function ofMessages(messages: { id: string; type: string }[]): Promise<Map<string, AttachmentMeta[]>> {
    const ids = messages.filter((m) => m.type === "image" || m.type === "file").map((m) => m.id);
    const found = new Map<string, AttachmentMeta[]>();
    if (ids.length === 0) return found;
    const rows = await prisma.attachment.findMany({
      where: { messageId: { in: ids } },
      orderBy: [{ messageId: "asc" }, { position: "asc" }],
    });
    for (const row of rows) {
      const list = found.get(row.messageId ?? "") ?? [];
      list.push(metaOf(row));
      found.set(row.messageId ?? "", list);
    }
    return found;
  }

  /**
   * The conversations' lastMessage with its type and attachments (links signed for
   * whoever reads them: call with the caller's own list).
   */
  async function withLastMessages<C extends { id: string; lastMessage: { deleted: boolean } | null }>(list: C[]) {
    const ids = list.filter((c) => c.lastMessage).map((c) => c.id);
    const last =
      ids.length === 0
        ? []
        : await db.query<{ id: string; conversationId: string; type: string }>(
            `SELECT m."id", m."conversationId", m."type"::text AS "type" FROM "Conversation" c
             JOIN "Message" m ON m."conversationId" = c."id" AND m."seq" = c."messageCount"
             WHERE c."id" = ANY($1::text[])`,
            [ids],
          );
    const byConversation = new Map(last.map((m) => [m.conversationId, m]));
    const attached = await ofMessages(last);
    return list.map((conversation) => {
      const message = byConversation.get(conversation.id);
      if (!conversation.lastMessage) return { ...conversation, lastMessage: null };
      const hidden = conversation.lastMessage.deleted || !message;
      const attachments = hidden ? [] : (attached.get(message.id) ?? []).map(view);
      const type = (message?.type ?? "text") as MessageType;
      return { ...conversation, lastMessage: { ...conversation.lastMessage, type, attachments } };
    });
  }

  return {
    storageKind: storage.kind,
    limits,

    /**
     * Starts an upload: a pending attachment and where to send its bytes (exactly `size` of
     * them). The caller must be a participant; declared size and the daily quota are checked now.
     */
    async createUpload(userId: string, input: CreateUploadInput) {
      await conversations.assertParticipant(input.conversationId, userId);
      const name = cleanFileName(input.name);
      const max = input.mimeType.startsWith("image/") ? limits.imageBytes : limits.fileBytes;
      if (input.size > max) throw tooLarge(name, `it is ${megabytes(input.size)}; the most is ${megabytes(max)}.`);
      const since = new Date(now().getTime() - 24 * 3_600_000);
      const today = await prisma.attachment.aggregate({
        where: { uploaderId: userId, createdAt: { gt: since } },
        _sum: { size: true },
      });
      if ((today._sum.size ?? 0) + input.size > limits.dailyBytes) {
        throw tooLarge(name, `you can upload ${megabytes(limits.dailyBytes)} a day; try again tomorrow.`);
      }
      const id = randomUUID();
      const createdAt = now();
      await prisma.attachment.create({
        data: {
          id,
          uploaderId: userId,
          conversationId: input.conversationId,
          name,
          mimeType: input.mimeType,
          size: input.size,
          storageKey: keys.upload(id),
          createdAt,
          expiresAt: new Date(createdAt.getTime() + bindWindowMs),
        },
      });
      const presigned = await storage.presignedPut(keys.upload(id), input.size, linkSeconds);
      return {
        uploadId: id,
        url: presigned?.url ?? link("upload", id),
        method: "PUT" as const,
        headers: presigned?.headers ?? { "content-type": "application/octet-stream" },
      };
    },

    /**
     * The bytes of an upload, sent to our own route (the disk backend): streamed into storage,
     * never more than announced, then checked. Whatever fails leaves nothing behind.
     */
    async receive(id: string, expires: string | null, signature: string | null, body: Readable) {
      if (!verify("upload", id, expires, signature))
        throw new DomainError("FORBIDDEN", "This upload link is not valid.");
      const row = await prisma.attachment.findUnique({ where: { id } });
      if (!row) throw notFound("This upload");
      if (row.status !== "pending" || (await storage.size(keys.upload(id))) !== null) {
        throw new DomainError("CONFLICT", `“${row.name}” was uploaded already.`);
      }
      try {
        await storage.put(keys.upload(id), body, { maxBytes: row.size });
      } catch (error) {
        await discard(row);
        if (error instanceof BlobTooLarge) throw tooLarge(row.name, `more than the ${row.size} bytes announced came.`);
        throw badRequest(`The upload of “${row.name}” was interrupted; upload it again.`);
      }
      return view(metaOf(await check(row)));
    },

    /**
     * Claims `ids` for a message that `userId` is about to store in `conversationId`, under the
     * message's new id: each must be the user's upload in this conversation, checked (S3 uploads
     * are checked now), not yet sent and still in its window. Release the claim if the message is
     * not stored. Returns the message's id and type, and what it carries.
     */
    async bind(userId: string, conversationId: string, ids: string[], clientMessageId?: string) {
      const rows = await prisma.attachment.findMany({ where: { id: { in: ids } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      const at = now();
      const ready: Attachment[] = [];
      // A retried send (same clientMessageId) finds its attachments bound to the first message.
      const original = clientMessageId
        ? await prisma.message.findUnique({
            where: { conversationId_senderId_clientMessageId: { conversationId, senderId: userId, clientMessageId } },
            select: { id: true },
          })
        : null;
      for (const id of ids) {
        const row = byId.get(id);
        // Someone else's upload is "not found": an id tells its guesser nothing.
        if (!row || row.uploaderId !== userId) throw notFound(`Attachment ${id}`);
        if (row.conversationId !== conversationId) {
          throw badRequest(`“${row.name}” was uploaded to another conversation.`);
        }
        if (original && row.messageId === original.id) continue;
        if (row.messageId !== null) throw new DomainError("CONFLICT", `“${row.name}” was sent already.`);
        if (row.expiresAt <= at) throw badRequest(`“${row.name}” was uploaded too long ago; upload it again.`);
        ready.push(row.status === "ready" ? row : await check(row));
      }
      if (original) {
        if (ready.length > 0) throw new DomainError("CONFLICT", "This clientMessageId was used for another message.");
        // Nothing to claim: storing finds the clientMessageId taken and answers with the first message.
        return { messageId: randomUUID(), type: "file" as const, attachments: [] };
      }
      const messageId = randomUUID();
      // The claim itself decides between two sends racing for the same upload.
      const claimed = await db.query<{ id: string }>(
        `UPDATE "Attachment" a SET "messageId" = $1, "position" = p."n"
         FROM unnest($2::text[]) WITH ORDINALITY AS p("id", "n")
         WHERE a."id" = p."id" AND a."uploaderId" = $3 AND a."conversationId" = $4 AND a."status" = 'ready'
           AND a."messageId" IS NULL AND a."expiresAt" > $5::timestamp(3)
         RETURNING a."id"`,
        [messageId, ids, userId, conversationId, at.toISOString()],
      );
      if (claimed.length !== ids.length) {
        await prisma.attachment.updateMany({ where: { messageId }, data: { messageId: null } });
        throw new DomainError("CONFLICT", "One of the attachments was sent already.");
      }
      const attachments = ready.map(metaOf);
      const type: "image" | "file" = attachments.every((a) => a.mimeType.startsWith("image/")) ? "image" : "file";
      return { messageId, type, attachments };
    },

    /** Gives back the attachments claimed for a message that was not stored. */
    async release(messageId: string) {
      await prisma.attachment.updateMany({ where: { messageId }, data: { messageId: null } });
    },

    ofMessages,
    withLastMessages,

    /** One conversation's lastMessage with its type and attachments (see `withLastMessages`). */
    async withLastMessage<C extends { id: string; lastMessage: { deleted: boolean } | null }>(conversation: C) {
      const [one] = await withLastMessages([conversation]);
      if (!one) throw new Error("withLastMessages returned fewer conversations than it was given");
      return one;
    },

    /** Fresh links for a reader: call only for a participant of the message's conversation. */
    views: (attachments: AttachmentMeta[] | undefined): AttachmentView[] => (attachments ?? []).map(view),

    /**
     * An attachment's file (or thumbnail) for a signed link: null when the link is not valid or
     * has expired (403), `"missing"` when there is no such file (404).
     */
    async open(id: string, purpose: "file" | "thumbnail", expires: string | null, given: string | null) {
      if (!verify(purpose, id, expires, given)) return null;
      const row = await prisma.attachment.findUnique({ where: { id } });
      if (row?.status !== "ready") return "missing" as const;
      const key = purpose === "thumbnail" ? row.thumbnailKey : row.storageKey;
      if (!key) return "missing" as const;
      const body = await storage.get(key);
      if (!body) return "missing" as const;
      return {
        body,
        name: row.name,
        mimeType: purpose === "thumbnail" ? "image/webp" : row.mimeType,
        size: purpose === "thumbnail" ? null : row.size,
        expiresAt: Number(expires),
      };
    },
  };
}

export type Attachments = ReturnType<typeof createAttachments>;

/**
 * Deletes uploads whose window passed without a message (and any claimed for a message that
 * was never stored): bytes first, then rows. Returns how many went. Bounded per run.
 */
export async function deleteExpiredUploads({
  db,
  storage,
  now = new Date(),
  batch = 500,
}: {
  db: Pick<Database, "query">;
  storage: BlobStorage;
  now?: Date;
  batch?: number;
}) {
  const rows = await db.query<Pick<Attachment, "id" | "storageKey" | "thumbnailKey">>(
    `SELECT a."id", a."storageKey", a."thumbnailKey" FROM "Attachment" a
     WHERE a."expiresAt" < $1::timestamp(3)
       AND (a."messageId" IS NULL OR (a."expiresAt" < $1::timestamp(3) - interval '1 hour'
         AND NOT EXISTS (SELECT 1 FROM "Message" m WHERE m."id" = a."messageId")))
     ORDER BY a."expiresAt" LIMIT $2`,
    [now.toISOString(), batch],
  );
  for (const row of rows) {
    const blobs = new Set([keys.upload(row.id), keys.image(row.id), keys.thumbnail(row.id), row.storageKey]);
    await Promise.all([...blobs].map((key) => storage.delete(key)));
  }
  if (rows.length > 0) {
    await db.query(`DELETE FROM "Attachment" WHERE "id" = ANY($1::text[])`, [rows.map((row) => row.id)]);
  }
  return rows.length;
}
