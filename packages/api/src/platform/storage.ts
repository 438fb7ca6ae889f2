import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

/**
 * One blob interface for every stored file, with two backends: a folder (the embedded default)
 * and S3-compatible object storage. Keys are ours (`incoming/<uuid>`, `files/<uuid>`), never a
 * user's file name.
 */
export interface BlobStorage {
  readonly kind: "disk" | "s3";
  /** Streams `body` into `key`; fails with `BlobTooLarge` (and stores nothing) past `maxBytes`. Returns the size. */
  put(key: string, body: Readable, options?: { maxBytes?: number; contentType?: string }): Promise<number>;
  /** The blob as a stream, or null when there is none. */
  get(key: string): Promise<Readable | null>;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /**
   * Where a client sends an upload's bytes itself: a presigned PUT for S3 (signed for exactly
   * `size` bytes); null for disk, whose uploads come through the server's own route.
   */
  presignedPut(
    key: string,
    size: number,
    expiresInSeconds: number,
  ): Promise<{ url: string; headers: Record<string, string> } | null>;
}

/** More bytes came than allowed; nothing was kept. */
export class BlobTooLarge extends Error {
  override name = "BlobTooLarge";
}

const KEY = /^[a-z]+\/[A-Za-z0-9-]+(\.[a-z0-9]+)?$/;

function checkKey(key: string) {
  if (!KEY.test(key)) throw new Error(`Not a storage key: ${JSON.stringify(key)}`);
}

/** Counts bytes as they pass, failing once they exceed `maxBytes`. */
function byteLimit(maxBytes: number, counted: { bytes: number }) {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counted.bytes += chunk.length;
      if (counted.bytes > maxBytes) done(new BlobTooLarge(`More than ${maxBytes} bytes.`));
      else done(null, chunk);
    },
  });
}

/** Files under `dir`: written to a temporary name, renamed into place once complete. */
export function createDiskStorage(dir: string): BlobStorage {
  const pathOf = (key: string) => {
    checkKey(key);
    return join(dir, key);
  };
  return {
    kind: "disk",
    async put(key, body, { maxBytes = Number.MAX_SAFE_INTEGER } = {}) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.${randomUUID()}.part`;
      const counted = { bytes: 0 };
      const file = createWriteStream(partial, { mode: 0o600 });
      try {
        await pipeline(body, byteLimit(maxBytes, counted), file);
        await rename(partial, path);
      } catch (error) {
        // A copy cut short may end while the file is still being opened: it exists once the stream has closed.
        if (!file.closed) await new Promise<void>((resolve) => file.once("close", () => resolve()));
        await rm(partial, { force: true });
        throw error;
      }
      return counted.bytes;
    },
    async get(key) {
      const path = pathOf(key);
      try {
        await stat(path);
      } catch {
        return null;
      }
      return createReadStream(path);
    },
    async size(key) {
      try {
        return (await stat(pathOf(key))).size;
      } catch {
        return null;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    presignedPut: async () => null,
  };
}

export interface S3StorageOptions {
  bucket: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/** S3 or any S3-compatible server (MinIO, R2, s3rver) through the AWS SDK; path-style with an endpoint. */
export function createS3Storage(options: S3StorageOptions): BlobStorage & { client: S3Client } {
  const { bucket } = options;
  const client = new S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.accessKeyId && options.secretAccessKey
      ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
      : {}),
  });
  const missing = (error: unknown) => {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return name === "NoSuchKey" || name === "NotFound" || $metadata?.httpStatusCode === 404;
  };
  return {
    kind: "s3",
    client,
    async put(key, body, { maxBytes = Number.MAX_SAFE_INTEGER, contentType } = {}) {
      checkKey(key);
      // The server's own writes are bounded (re-encoded photos, thumbnails; uploads go straight to
      // the bucket by presigned PUT): collected, then sent with their length, as one PUT needs.
      const chunks: Buffer[] = [];
      const counted = { bytes: 0 };
      await pipeline(body, byteLimit(maxBytes, counted), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      });
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.concat(chunks), ContentType: contentType }),
      );
      return counted.bytes;
    },
    async get(key) {
      checkKey(key);
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return object.Body instanceof Readable ? object.Body : null;
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },
    async size(key) {
      checkKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return head.ContentLength ?? null;
      } catch (error) {
        if (missing(error)) return null;
        throw error;
      }
    },
    async delete(key) {
      checkKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async presignedPut(key, size, expiresInSeconds) {
      checkKey(key);
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentLength: size });
      const url = await getSignedUrl(client, command, { expiresIn: expiresInSeconds });
      return { url, headers: { "content-length": String(size) } };
    },
  };
}
