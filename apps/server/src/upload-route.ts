import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { type Attachments, DomainError, httpStatusOf } from "@naafe/api";

export interface UploadRouteDeps {
  attachments: Attachments;
  onError?(error: unknown): void;
}

const UPLOAD_PATH = /^\/uploads\/([0-9a-f-]{36})(\/thumbnail)?$/;

// A file from a user is never a page of this site: nothing in it runs, and only images show inline.
const fileHeaders = {
  "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Resource-Policy": "same-site",
  "Referrer-Policy": "no-referrer",
};

const INLINE_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

/**
 * `PUT /uploads/:id?expires&signature`: an upload's bytes (the disk backend's upload link from
 * `chat.createUpload`), streamed to storage and checked; answers the attachment as JSON.
 * `GET /uploads/:id[/thumbnail]?expires&signature`: the file, for whoever holds a link that
 * has not expired (links are handed to participants only). A bad or expired link is 403, an
 * unknown file 404.
 */
export async function handleUpload(req: IncomingMessage, res: ServerResponse, deps: UploadRouteDeps) {
  try {
    await serve(req, res, deps);
  } catch (error) {
    if (error instanceof DomainError) {
      answer(res, httpStatusOf[error.code], error.code, error.message);
      return;
    }
    deps.onError?.(error);
    if (res.headersSent) res.destroy();
    else answer(res, 500, "INTERNAL_SERVER_ERROR", "The file could not be handled; please try again.");
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, { attachments }: UploadRouteDeps) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const match = UPLOAD_PATH.exec(url.pathname);
  if (!match?.[1]) return answer(res, 404, "NOT_FOUND", "Not found.");
  const id = match[1];
  const expires = url.searchParams.get("expires");
  const signature = url.searchParams.get("signature");

  if (req.method === "PUT" && !match[2]) {
    const attachment = await attachments.receive(id, expires, signature, req);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(attachment));
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD, PUT");
    return answer(res, 405, "METHOD_NOT_SUPPORTED", "Files are read with GET and uploaded with PUT.");
  }
  const file = await attachments.open(id, match[2] ? "thumbnail" : "file", expires, signature);
  if (file === null) return answer(res, 403, "FORBIDDEN", "This link is not valid or has expired.");
  if (file === "missing") return answer(res, 404, "NOT_FOUND", "This file was not found.");
  const inline = INLINE_TYPES.has(file.mimeType);
  const maxAge = Math.max(0, file.expiresAt - Math.floor(Date.now() / 1000));
  res.writeHead(200, {
    ...fileHeaders,
    "content-type": file.mimeType === "text/plain" ? "text/plain; charset=utf-8" : file.mimeType,
    ...(file.size === null ? {} : { "content-length": String(file.size) }),
    "content-disposition": `${inline ? "inline" : "attachment"}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    "cache-control": `private, max-age=${maxAge}`,
  });
  if (req.method === "HEAD") {
    file.body.destroy();
    res.end();
    return;
  }
  await pipeline(file.body, res);
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The request's body may be unread (a refused upload): the connection is not reused.
  res.writeHead(status, { "content-type": "application/json", connection: "close", ...fileHeaders });
  res.end(JSON.stringify({ error: { code, message } }));
}
