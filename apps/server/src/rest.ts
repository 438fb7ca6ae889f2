import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { appRouter, type Context } from "@naafe/api";
import type { TRPCError } from "@trpc/server";
import { createOpenApiExpressMiddleware, generateOpenApiDocument } from "trpc-to-openapi";

/** Token names a client might put in a URL; refused by name so the reason can be told. */
const TOKEN_PARAMS = new Set(["token", "access_token", "accesstoken", "auth", "authorization", "jwt", "bearer"]);

const methodsWithBody = new Set(["POST", "PATCH", "PUT"]);

export interface RestOptions {
  /** The caller's context from the request's `Authorization: Bearer` header (as for `/trpc`). */
  createContext: (req: IncomingMessage) => Context;
  maxBodySize: number;
  onError: (error: TRPCError, path: string | undefined) => void;
}

/**
 * The seed's REST paths (`/api/chat/…`): the chat procedures that carry `meta.openapi`, called
 * with plain JSON (no superjson; dates are ISO 8601 strings), with the same sign-in, validation
 * and rate limits as over `/trpc`.
 */
export function createRestApi({ createContext, maxBodySize, onError }: RestOptions) {
  // trpc-to-openapi's Node handler, which its package exports as the Express middleware: it
  // takes Node's own request and response, and uses `req.body` when it is already parsed.
  const handle = createOpenApiExpressMiddleware({
    router: appRouter,
    maxBodySize,
    createContext: ({ req }: { req: IncomingMessage }) => createContext(req),
    responseMeta: () => ({ headers: { "cache-control": "no-store" } }),
    onError: ({ error, path }: { error: TRPCError; path: string | undefined }) => onError(error, path),
  });
  return async (req: IncomingMessage, res: ServerResponse) => {
    const refusal = urlProblem(req);
    if (refusal) return sendJson(res, 400, { message: refusal, code: "BAD_REQUEST" });
    if (methodsWithBody.has(req.method ?? "")) {
      const body = await readJsonBody(req, maxBodySize);
      if ("status" in body) return sendJson(res, body.status, { message: body.message, code: body.code });
      // No body at all (`PATCH …/read` needs none) is an empty object.
      req.headers["content-type"] ??= "application/json";
      Object.assign(req, { body: body.value });
    }
    return handle(req, res);
  };
}

type BodyResult = { value: unknown } | { status: number; code: string; message: string };

/** The request's JSON body (an empty one is `{}`), read here so that every failure is a 4xx with a sentence. */
async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        return { status: 413, code: "PAYLOAD_TOO_LARGE", message: `A body can be at most ${maxBytes} bytes.` };
      }
      chunks.push(chunk);
    }
  } catch {
    // The client went away mid-body: nobody is left to answer, and nothing was changed.
    return { status: 400, code: "BAD_REQUEST", message: "The body could not be read." };
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return { value: {} };
  if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "")) {
    return {
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: "Send the body as JSON (Content-Type: application/json).",
    };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { status: 400, code: "PARSE_ERROR", message: "The body is not valid JSON." };
  }
}

/**
 * A token in the URL ends up in access logs, proxies and browser history, so it is refused
 * even where a header carries a valid one. Methods with a body take nothing from the query,
 * so anything there is a mistake worth reporting rather than ignoring.
 */
function urlProblem(req: IncomingMessage): string | null {
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  for (const name of query.keys()) {
    if (TOKEN_PARAMS.has(name.toLowerCase())) {
      return "Send the token in the Authorization header (Bearer), never in the URL.";
    }
  }
  if (methodsWithBody.has(req.method ?? "") && query.size > 0) {
    return "This request takes its fields in the JSON body, not in the query string.";
  }
  return null;
}

/** The OpenAPI 3.1 document of the REST paths, generated from the router's procedures. */
export function openApiDocument() {
  return generateOpenApiDocument(appRouter, {
    title: "Naafe Chat REST API",
    version: "1.0.0",
    description:
      "The seed's REST paths, served by the same procedures as the tRPC API. Sign in with `Authorization: Bearer <user JWT>`; " +
      "a token in the URL is refused. Errors are JSON: `{ message, code }` with the HTTP status (400 bad input, 401 not signed in, " +
      "403 not a participant, 404 not found, 429 rate-limited: `data.retryAfter` seconds).",
    baseUrl: "/",
    securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
  });
}

/** Swagger UI's files, shipped in the swagger-ui-dist package and read from node_modules at start. */
const swaggerAssets = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
} as const;

// Inline scripts are refused by the content security policy: the page starts Swagger UI from a file.
const docsInit = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
`;

const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Naafe Chat REST API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * `/openapi.json` and the reference page at `/docs`, served from this process (no CDN). The
 * assets are found by resolving the package from this module, in the source tree and in the
 * esbuild bundle alike (packages stay external, installed beside apps/server).
 */
export function createDocsRoutes() {
  const document = JSON.stringify(openApiDocument());
  const assetsDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const files = new Map<string, { type: string; body: Buffer | string }>([
    ["/docs", { type: "text/html; charset=utf-8", body: docsPage }],
    ["/docs/init.js", { type: "text/javascript; charset=utf-8", body: docsInit }],
    ["/openapi.json", { type: "application/json", body: document }],
  ]);
  for (const [name, type] of Object.entries(swaggerAssets)) {
    files.set(`/docs/${name}`, { type, body: readFileSync(join(assetsDir, name)) });
  }
  return (req: IncomingMessage, res: ServerResponse, path: string) => {
    const file = files.get(path === "/docs/" ? "/docs" : path);
    if (!file) return sendJson(res, 404, { message: "Not found", code: "NOT_FOUND" });
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      return res.end();
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "public, max-age=300" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
