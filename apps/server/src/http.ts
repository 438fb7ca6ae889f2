import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import sirv from "sirv";

const securityHeaders = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Routes {
  /** tRPC over HTTP (queries and mutations). */
  trpc: Handler;
  health: Handler;
  /** `/export/…`: transcripts of conversations. */
  exports: Handler;
  /** `/service/…`: the marketplace backend's server-to-server API. */
  service: Handler;
  /** `/api/…`: the seed's REST paths (rest.ts). */
  rest: Handler;
  /** `/openapi.json` and the reference page at `/docs`. */
  docs: (req: IncomingMessage, res: ServerResponse, path: string) => void;
  /** `/uploads/…`: attachments' bytes in (disk backend) and out, by signed link. */
  uploads: Handler;
  /** `/notifications/unsubscribe`: one-click unsubscribe from email digests (null: email off). */
  unsubscribe: Handler | null;
  corsOrigins: string[];
  webDist: string;
}

/**
 * Every HTTP route of the server: `/trpc`, `/api` (REST), `/openapi.json`, `/docs`, `/healthz`,
 * `/export`, `/service`, `/uploads`, `/notifications/unsubscribe`, and the web app at `/`.
 */
export function createRequestHandler(routes: Routes): Handler {
  const { trpc, health, exports, service, rest, docs, uploads, unsubscribe, corsOrigins, webDist } = routes;
  const web = existsSync(webDist)
    ? sirv(webDist, { single: true, etag: true, setHeaders: (res) => setHeaders(res, securityHeaders) })
    : null;
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/trpc" || path.startsWith("/trpc/")) {
      if (allowCors(req, res, corsOrigins)) return;
      return trpc(req, res);
    }
    if (path === "/api" || path.startsWith("/api/")) {
      if (allowCors(req, res, corsOrigins)) return;
      return rest(req, res);
    }
    if (path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/")) {
      setHeaders(res, securityHeaders);
      return docs(req, res, path);
    }
    if (path === "/healthz") return health(req, res);
    if (path.startsWith("/export/")) return exports(req, res);
    if (path === "/service" || path.startsWith("/service/")) return service(req, res);
    if (path.startsWith("/uploads/")) return uploads(req, res);
    if (path === "/notifications/unsubscribe" && unsubscribe) return unsubscribe(req, res);
    if (web) return web(req, res, () => notFound(res));
    setHeaders(res, securityHeaders);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end(
      "Naafe Chat API is running at /trpc. Build the web app (pnpm --filter @naafe/web build) to serve it here.\n",
    );
  };
}

/** CORS only for configured origins; answers preflights itself. Returns whether the request is done. */
function allowCors(req: IncomingMessage, res: ServerResponse, origins: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  if (req.method !== "OPTIONS") return false;
  res.writeHead(204, {
    "Access-Control-Allow-Methods": "GET, POST, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "authorization, content-type, trpc-accept",
    "Access-Control-Max-Age": "600",
  });
  res.end();
  return true;
}

function setHeaders(res: ServerResponse, headers: Record<string, string>) {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

function notFound(res: ServerResponse) {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("Not found\n");
}

/**
 * The client's address: the socket's peer, or behind a trusted proxy the hop it saw last.
 * Never trusted otherwise: any client can write X-Forwarded-For.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers["x-forwarded-for"] : undefined;
  const hops = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).split(",");
  const last = hops
    .map((hop) => hop.trim())
    .filter(Boolean)
    .at(-1);
  return last ?? req.socket.remoteAddress ?? "unknown";
}
