import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import type { AuthUser } from "./auth.ts";
import type { Context } from "./context.ts";
import { DomainError } from "./errors.ts";
import { transformer } from "./transformer.ts";

interface Issue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
}

/**
 * Why an input was refused: its validation issues. Not the validator's own error, so every
 * transport (the REST adapter too, which would otherwise answer "Input validation failed")
 * reports the sentence built from them.
 */
class InvalidInput extends Error {
  override name = "InvalidInput";
  constructor(readonly issues: Issue[]) {
    super(issues.map(describe).join("; "));
  }
}

function issuesOf(error: TRPCError): Issue[] | null {
  const issues = (error.cause as { issues?: unknown } | undefined)?.issues;
  return error.code === "BAD_REQUEST" && Array.isArray(issues) ? (issues as Issue[]) : null;
}

function describe(issue: Issue) {
  const path = (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

// `meta.openapi` puts a procedure at a REST path too (apps/server/src/rest.ts).
const t = initTRPC
  .context<Context>()
  .meta<OpenApiMeta>()
  .create({
    transformer,
    // Subscriptions run over the WebSocket transport only, where its limits, sign-in expiry and
    // sign-outs apply; server-sent events would bypass all of them.
    sse: { enabled: false },
    // Clients never get a stack trace, in development either: `pnpm start` is what people expose.
    isDev: false,
    errorFormatter({ shape, error }) {
      const issues = issuesOf(error);
      const retryAfter = error.cause instanceof DomainError ? (error.cause.retryAfter ?? null) : null;
      return {
        ...shape,
        // A sentence a person can read instead of a JSON dump of the validation issues; and
        // never the internals (SQL, file names) of an unexpected failure.
        message: issues
          ? issues.map(describe).join("; ")
          : error.code === "INTERNAL_SERVER_ERROR"
            ? "Something went wrong on our side; please try again."
            : shape.message,
        data: {
          ...shape.data,
          issues: issues?.map((issue) => ({ ...issue, path: issue.path?.map(String) })) ?? null,
          retryAfter,
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * The error a caller sees: a domain error becomes the tRPC error of the same code, with the same
 * message; a database that cannot be reached is SERVICE_UNAVAILABLE (retry later), not a bug.
 */
function publicError(error: TRPCError): TRPCError | null {
  const cause = error.cause;
  if (cause instanceof DomainError) return fromDomainError(cause);
  const issues = issuesOf(error);
  if (issues && !(cause instanceof InvalidInput)) {
    const invalid = new InvalidInput(issues);
    return new TRPCError({ code: "BAD_REQUEST", message: invalid.message, cause: invalid });
  }
  if (error.code === "INTERNAL_SERVER_ERROR" && isDatabaseUnavailable(cause)) {
    const message = "The chat's database is unavailable right now; try again in a moment.";
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message, cause });
  }
  return null;
}

const fromDomainError = (cause: DomainError) => new TRPCError({ code: cause.code, message: cause.message, cause });

// Prisma's codes for an unreachable or overloaded server; PostgreSQL's for a server that refuses
// connections (too many, shutting down, starting up, login refused) or lost one (class 08);
// and the driver's words for a lost link.
const UNAVAILABLE_CODES = new Set([
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
  "53300",
  "57P01",
  "57P03",
  "28000",
  "28P01",
]);
const UNAVAILABLE_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|Query read timeout|timeout exceeded when trying to connect|DatabaseNotReachable|ConnectionClosed|SocketTimeout|Can't reach database/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const { code, message, kind, cause, meta } = error as Record<string, unknown>;
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if ([message, kind, code].some((text) => typeof text === "string" && UNAVAILABLE_TEXT.test(text))) return true;
  const adapterError = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
  return isDatabaseUnavailable(cause, depth + 1) || isDatabaseUnavailable(adapterError, depth + 1);
}

/**
 * Runs a procedure's call: mutations are tracked, so a graceful shutdown can wait for
 * acknowledged writes to finish, and failures are turned into `publicError`s. One middleware,
 * not one per concern: each level of tRPC's middleware chain costs on every message.
 */
async function settle<R extends { ok: true } | { ok: false; error: TRPCError }>(
  ctx: Context,
  type: string,
  call: Promise<R>,
): Promise<R> {
  const result = await (type === "mutation" ? ctx.writes.track(call) : call);
  if (!result.ok) throw publicError(result.error) ?? result.error;
  return result;
}

export const publicProcedure = t.procedure.use(({ ctx, type, next }) => settle(ctx, type, next()));

export const protectedProcedure = t.procedure.use(({ ctx, type, next }) => {
  if (!ctx.user) throw fromDomainError(ctx.authError ?? new DomainError("UNAUTHORIZED", "Sign in to use the chat."));
  // `ctx.user` is set: only its type narrows. Passing `{ ctx: { user } }` to `next` would make
  // tRPC copy the whole context (every service, 35 keys) on every call.
  return settle(ctx, type, next() as ReturnType<typeof next<{ user: AuthUser }>>);
});
