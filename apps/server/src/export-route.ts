import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Context, contentTypes, DomainError, exportFormat } from "@naafe/api";

export interface ExportRouteDeps {
  /** The caller's context from the request's bearer token (the server's, with its failed-sign-in guard). */
  authenticate(req: IncomingMessage): Context;
  onError?(error: unknown): void;
}

const CONVERSATION_PATH = /^\/export\/conversations\/([^/]{1,100})$/;

// A transcript is a file to save, never a page of this site: its HTML may run nothing.
const downloadHeaders = {
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/**
 * `GET /export/conversations/:conversationId?format=jsonl|csv|html`, `GET /export/conversations?format=zip`
 * (every conversation of the caller, one JSONL transcript each) and `GET /export/public-key`.
 * Streamed a page of messages at a time, at the pace the client reads.
 */
export async function handleExport(req: IncomingMessage, res: ServerResponse, deps: ExportRouteDeps) {
  try {
    await serveExport(req, res, deps);
  } catch (error) {
    deps.onError?.(error);
    if (res.headersSent) res.destroy();
    else answer(res, 500, "The export failed on our side; please try again.");
  }
}

async function serveExport(req: IncomingMessage, res: ServerResponse, deps: ExportRouteDeps) {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET");
    return answer(res, 405, "Exports are read with GET.");
  }
  let ctx: Context;
  try {
    ctx = deps.authenticate(req);
  } catch (error) {
    return answer(res, 429, error instanceof Error ? error.message : "Too many requests.");
  }
  if (url.pathname === "/export/public-key") {
    res.writeHead(200, { "content-type": "application/x-pem-file", "Cache-Control": "public, max-age=3600" });
    return res.end(ctx.exports.publicKeyPem);
  }
  if (!ctx.user)
    return answer(res, 401, ctx.authError?.message ?? "Sign in (Authorization: Bearer <token>) to export.");
  const user = ctx.user;
  const format = url.searchParams.get("format") ?? (url.pathname === "/export/conversations" ? "zip" : "jsonl");
  const conversationMatch = CONVERSATION_PATH.exec(url.pathname);
  if (url.pathname !== "/export/conversations" && !conversationMatch) return answer(res, 404, "Not found.");
  if (!conversationMatch && format !== "zip") return answer(res, 400, "All conversations export as format=zip.");
  if (conversationMatch && !exportFormat.safeParse(format).success) {
    return answer(res, 400, "format must be jsonl, csv or html.");
  }
  try {
    await ctx.exportLimiter.take(user.id);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    res.setHeader("Retry-After", String(error.retryAfter ?? 60));
    return answer(res, 429, error.message);
  }

  let body: AsyncIterable<string | Uint8Array>;
  let filename: string;
  const day = new Date().toISOString().slice(0, 10);
  if (conversationMatch) {
    const conversationId = decodeURIComponent(conversationMatch[1] ?? "");
    const conversation = await ctx.exports.exportable(conversationId, user.id);
    // The same answer whether the conversation does not exist or is someone else's.
    if (!conversation) return answer(res, 404, "No such conversation among yours.");
    const chosen = exportFormat.parse(format);
    body = ctx.exports.transcript(conversation, chosen, user.id);
    filename = `naafe-conversation-${conversation.id}-${day}.${chosen}`;
    res.writeHead(200, { ...downloadHeaders, "content-type": contentTypes[chosen], ...disposition(filename) });
  } else {
    body = ctx.exports.zipAll(user.id);
    filename = `naafe-conversations-${day}.zip`;
    res.writeHead(200, { ...downloadHeaders, "content-type": contentTypes.zip, ...disposition(filename) });
  }
  if (req.method === "HEAD") return res.end();
  try {
    await pipeline(Readable.from(body, { objectMode: false }), res);
  } catch (error) {
    // The client went away (nothing to do), or the database failed midway: the download ends
    // short, and a JSONL transcript without its signed end line does not verify.
    if (!res.destroyed) res.destroy();
    if ((error as { code?: string }).code !== "ERR_STREAM_PREMATURE_CLOSE") deps.onError?.(error);
  }
}

function disposition(filename: string) {
  return { "Content-Disposition": `attachment; filename="${filename.replace(/[^\w.-]/g, "_")}"` };
}

function answer(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify({ error: message }));
}
