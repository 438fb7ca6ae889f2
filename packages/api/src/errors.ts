/**
 * What went wrong, in terms of the domain. Services throw these; `trpc.ts` maps each one
 * to the tRPC error code of the same name, so domain code never imports tRPC.
 */
export type DomainErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "TOO_MANY_REQUESTS";

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Seconds after which a rate-limited call may be retried. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string) => new DomainError("NOT_FOUND", `${what} was not found.`);
export const forbidden = (message: string) => new DomainError("FORBIDDEN", message);
export const badRequest = (message: string) => new DomainError("BAD_REQUEST", message);
