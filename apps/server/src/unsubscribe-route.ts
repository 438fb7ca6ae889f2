import type { IncomingMessage, ServerResponse } from "node:http";
import type { UnsubscribeLinks } from "@naafe/api";

export interface UnsubscribeRouteDeps {
  links: UnsubscribeLinks;
  unsubscribe(userId: string): Promise<void>;
  onError?(error: unknown): void;
}

const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/**
 * `/notifications/unsubscribe?token=…` from the digest emails. `POST` (RFC 8058 one-click, sent
 * by the mail client, or the page's button) switches the user's email digests off; `GET` only
 * shows a page with that button, because link scanners open every link in an email.
 */
export async function handleUnsubscribe(req: IncomingMessage, res: ServerResponse, deps: UnsubscribeRouteDeps) {
  const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("token") ?? "";
  if (req.method !== "GET" && req.method !== "POST") {
    res.setHeader("Allow", "GET, POST");
    return page(res, 405, "Use the button in the page to unsubscribe.");
  }
  const verified = deps.links.verify(token, new Date());
  if ("problem" in verified) {
    return verified.problem === "expired"
      ? page(res, 410, "This unsubscribe link has expired. Switch email off in the chat's notification settings.")
      : page(res, 400, "This unsubscribe link is not valid. Switch email off in the chat's notification settings.");
  }
  if (req.method === "GET") {
    return page(
      res,
      200,
      "Stop the emails about unread messages?",
      `<form method="post" action="?token=${encodeURIComponent(token)}"><button type="submit">Unsubscribe</button></form>`,
    );
  }
  // The body (`List-Unsubscribe=One-Click`) says nothing the signed token does not; drain it.
  req.resume();
  try {
    await deps.unsubscribe(verified.userId);
  } catch (error) {
    deps.onError?.(error);
    return page(res, 500, "Unsubscribing failed on our side; please try again.");
  }
  return page(
    res,
    200,
    "You will get no more emails about unread messages. You can switch them on again in the chat's settings.",
  );
}

function page(res: ServerResponse, status: number, message: string, extra = "") {
  res.writeHead(status, pageHeaders);
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>Naafe Chat</title></head><body style="font-family: sans-serif"><p>${message}</p>${extra}</body></html>\n`,
  );
}
