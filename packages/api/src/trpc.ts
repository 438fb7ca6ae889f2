import { initTRPC, TRPCError } from "@trpc/server";
import type { Context } from "./context.ts";
import { DomainError } from "./errors.ts";
import { transformer } from "./transformer.ts";

interface Issue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
}

function issuesOf(error: TRPCError): Issue[] | null {
  const issues = (error.cause as { issues?: unknown } | undefined)?.issues;
  return error.code === "BAD_REQUEST" && Array.isArray(issues) ? (issues as Issue[]) : null;
}

function describe(issue: Issue) {
  const path = (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

const t = initTRPC.context<Context>().create({
  transformer,
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
  if (error.code === "INTERNAL_SERVER_ERROR" && isDatabaseUnavailable(cause)) {
    const message = "The chat's database is unavailable right now; try again in a moment.";
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message, cause });
  }
  return null;
}

const fromDomainError = (cause: DomainError) => new TRPCError({ code: cause.code, message: cause.message, cause });

// Prisma's codes for an unreachable or overloaded server, and the driver's words for a lost link.
const UNAVAILABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const UNAVAILABLE_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|Query read timeout|timeout exceeded when trying to connect|DatabaseNotReachable|ConnectionClosed|SocketTimeout|Can't reach database/i;

function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 4) return false;
  const { code, message, kind, cause, meta } = error as Record<string, unknown>;
  if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
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
  const { user } = ctx;
  if (!user) throw fromDomainError(ctx.authError ?? new DomainError("UNAUTHORIZED", "Sign in to use the chat."));
  return settle(ctx, type, next({ ctx: { user } }));
});
