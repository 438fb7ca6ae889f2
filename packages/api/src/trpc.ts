import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import type { Context } from "./context.ts";
import { DomainError } from "./errors.ts";

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
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const issues = issuesOf(error);
    const retryAfter = error.cause instanceof DomainError ? (error.cause.retryAfter ?? null) : null;
    return {
      ...shape,
      // A sentence a person can read instead of a JSON dump of the validation issues.
      message: issues ? issues.map(describe).join("; ") : shape.message,
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

/** Domain errors become the tRPC error of the same code, with the same message. */
const mapDomainErrors = t.middleware(async function mapDomainErrors({ next }) {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    return { ...result, error: new TRPCError({ code: cause.code, message: cause.message, cause }) };
  }
  return result;
});

/** Mutations in flight, so a graceful shutdown can wait for acknowledged writes to finish. */
const trackWrites = t.middleware(function trackWrites({ ctx, type, next }) {
  return type === "mutation" ? ctx.writes.track(next()) : next();
});

export const publicProcedure = t.procedure.use(trackWrites).use(mapDomainErrors);

export const protectedProcedure = publicProcedure.use(function isAuthed({ ctx, next }) {
  if (!ctx.user) throw ctx.authError ?? new DomainError("UNAUTHORIZED", "Sign in to use the chat.");
  return next({ ctx: { user: ctx.user } });
});
