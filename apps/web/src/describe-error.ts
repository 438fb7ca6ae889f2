import { currentLanguage, i18n } from "./features/i18n/i18n.ts";
import { isApiError } from "./trpc.ts";

/** What the app keeps of a failure: enough to say it in any language later (and to store it). */
export interface ErrorInfo {
  /** The tRPC error code; undefined when the server never answered. */
  code: string | undefined;
  /** The server's sentence (English), shown as is only to people reading English. */
  message: string;
  retryAfter: number | null;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (!isApiError(error)) return { code: "CLIENT", message: "", retryAfter: null };
  const data = error.data;
  return { code: data?.code, message: error.message, retryAfter: data?.retryAfter ?? null };
}

/** Refusals whose server sentence is written for people; the server writes in English. */
const REFUSALS = new Set([
  "UNAUTHORIZED",
  "FORBIDDEN",
  "BAD_REQUEST",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
]);
const SERVER_LANGUAGE = "en";

/**
 * A sentence a person can act on, in their language, for any error a call to the server can end
 * with. Translated by error code (and `retryAfter`), so nobody reading Arabic gets English.
 */
export function describeError(error: unknown): string {
  const info =
    error !== null && typeof error === "object" && "retryAfter" in error ? (error as ErrorInfo) : errorInfo(error);
  const { code, message, retryAfter } = info;
  const t = i18n.t;
  switch (code) {
    case "CLIENT":
      return t("errors.unknown");
    case undefined:
      // No error from the server at all: the request never got an answer.
      return t("errors.network");
    case "TOO_MANY_REQUESTS":
      return retryAfter ? t("errors.tooManyRequestsIn", { count: retryAfter }) : t("errors.TOO_MANY_REQUESTS");
    case "INTERNAL_SERVER_ERROR":
    case "SERVICE_UNAVAILABLE":
      return t(`errors.${code}`);
    default:
      if (REFUSALS.has(code) && message && currentLanguage() === SERVER_LANGUAGE) return message;
      return REFUSALS.has(code) ? t(`errors.${code as "FORBIDDEN"}`) : t("errors.unknown");
  }
}

export function isUnauthorized(error: unknown) {
  return isApiError(error) && error.data?.code === "UNAUTHORIZED";
}

/** Worth asking again: no answer at all, or the server failed. A refusal will only be refused again. */
export function isRetryable(error: unknown) {
  if (!isApiError(error)) return true;
  const code = error.data?.code;
  return code === undefined || code === "INTERNAL_SERVER_ERROR" || code === "SERVICE_UNAVAILABLE";
}
