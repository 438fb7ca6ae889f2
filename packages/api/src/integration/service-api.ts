import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Services } from "../context.ts";
import { DomainError, httpStatusOf } from "../errors.ts";
import type { RateLimiter } from "../platform/limits.ts";
import { deliveriesQuery, openConversationBody, pathId, systemMessageBody, upsertUserBody } from "./schemas.ts";
import { listDeliveries } from "./webhooks.ts";

/**
 * The server-to-server API the marketplace backend drives (`/service/*`, JSON), authenticated
 * with `Authorization: Bearer <service key>`: a key from `SERVICE_KEYS`, never a user token.
 * Two keys may be valid at once, so a key is rotated without downtime.
 */
export interface ServiceApiDeps {
  services: Pick<Services, "marketplace" | "chat" | "attachments" | "prisma">;
  keys: string[];
  limiter: RateLimiter;
  onError?: ((error: unknown) => void) | undefined;
}

const MAX_BODY = 64 * 1024;
const statusOf = httpStatusOf;
// Credentials belong in the Authorization header: URLs end up in logs and proxies.
const CREDENTIAL_PARAMS = ["key", "token", "access_token", "api_key", "apikey"];

interface Call {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
}

type Route = [method: string, path: RegExp, handle: (call: Call) => Promise<unknown>];

export function createServiceApi({ services, keys, limiter, onError }: ServiceApiDeps) {
  const { marketplace, chat, attachments, prisma } = services;
  const keyDigests = keys.map(digest);
  // A conversation as chat.conversations shows it: its lastMessage with type and attachments.
  const shown = async <C extends Parameters<typeof attachments.withLastMessage>[0]>(conversation: Promise<C>) =>
    attachments.withLastMessage(await conversation);

  const routes: Route[] = [
    [
      "POST",
      /^\/service\/conversations$/,
      async ({ body }) => shown(marketplace.openConversationForOffer(parse(openConversationBody, await body()))),
    ],
    [
      "POST",
      /^\/service\/conversations\/([^/]+)\/close$/,
      ({ params }) => shown(marketplace.setConversationActive(parse(pathId, params[0]), false)),
    ],
    [
      "POST",
      /^\/service\/conversations\/([^/]+)\/reopen$/,
      ({ params }) => shown(marketplace.setConversationActive(parse(pathId, params[0]), true)),
    ],
    [
      "POST",
      /^\/service\/conversations\/([^/]+)\/messages$/,
      async ({ params, body }) =>
        marketplace.postSystemMessage(parse(pathId, params[0]), parse(systemMessageBody, await body()).content),
    ],
    [
      "PUT",
      /^\/service\/users\/([^/]+)$/,
      async ({ params, body }) =>
        marketplace.upsertUser({ id: parse(pathId, params[0]), ...parse(upsertUserBody, await body()) }),
    ],
    [
      "GET",
      /^\/service\/users\/([^/]+)\/unread-count$/,
      ({ params }) => chat.conversations.unreadCount(parse(pathId, params[0])),
    ],
    [
      "GET",
      /^\/service\/webhooks\/deliveries$/,
      async ({ query }) => ({
        deliveries: await listDeliveries(prisma, parse(deliveriesQuery, Object.fromEntries(query))),
      }),
    ],
  ];

  /** Whether `authorization` carries a valid key, compared in constant time. */
  function keyIndex(authorization: string | undefined): number {
    const match = /^Bearer ([^\s]+)$/.exec(authorization ?? "");
    if (!match?.[1]) return -1;
    const presented = digest(match[1]);
    let found = -1;
    // Every key is compared, so the time taken does not tell which one matched.
    keyDigests.forEach((known, index) => {
      if (timingSafeEqual(known, presented) && found === -1) found = index;
    });
    return found;
  }

  return async function handleServiceRequest(req: IncomingMessage, res: ServerResponse) {
    try {
      const url = new URL(req.url ?? "/", "http://service");
      if (CREDENTIAL_PARAMS.some((name) => url.searchParams.has(name))) {
        throw new DomainError("BAD_REQUEST", "Send the service key in the Authorization header, never in the URL.");
      }
      const key = keyIndex(req.headers.authorization);
      if (key === -1)
        throw new DomainError("UNAUTHORIZED", "A valid service key is required (Authorization: Bearer …).");
      await limiter.take(`service-key-${key}`);
      const path = url.pathname.replace(/\/+$/, "");
      const pathMatches = routes.filter(([, pattern]) => pattern.test(path));
      if (pathMatches.length === 0)
        return send(res, 404, { error: { code: "NOT_FOUND", message: "No such endpoint." } });
      const route = pathMatches.find(([method]) => method === req.method);
      if (!route) {
        res.setHeader("allow", pathMatches.map(([method]) => method).join(", "));
        return send(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `Use ${res.getHeader("allow")}.` } });
      }
      const [, pattern, handle] = route;
      const params = (pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
      send(res, 200, await handle({ params, query: url.searchParams, body: () => readJson(req) }));
    } catch (error) {
      if (error instanceof DomainError) {
        if (error.retryAfter) res.setHeader("retry-after", String(error.retryAfter));
        if (error.code === "UNAUTHORIZED") res.setHeader("www-authenticate", 'Bearer realm="service"');
        const issues = error instanceof InvalidInput ? error.issues : undefined;
        return send(res, statusOf[error.code], { error: { code: error.code, message: error.message, issues } });
      }
      onError?.(error);
      send(res, 500, { error: { code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side." } });
    }
  };
}

class InvalidInput extends DomainError {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(
      "BAD_REQUEST",
      issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; "),
    );
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidInput(parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
    throw new DomainError("BAD_REQUEST", "The body must be JSON (Content-Type: application/json).");
  }
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new DomainError("BAD_REQUEST", `The body can be at most ${MAX_BODY / 1024} KB.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new DomainError("BAD_REQUEST", "The body is not valid JSON.");
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** A fixed-length digest, so keys of any length compare in constant time. */
function digest(key: string) {
  return createHash("sha256").update(key).digest();
}

export const serviceKeySchema = z.string().min(32, "each service key must be at least 32 characters");
