import { isApiError } from "./trpc.ts";

/** A sentence a person can act on, for any error a call to the server can end with. */
export function describeError(error: unknown): string {
  if (!isApiError(error)) return "Something went wrong. Try again.";
  const data = error.data;
  switch (data?.code) {
    case undefined:
      // No error from the server at all: the request never got an answer.
      return "Can't reach the server. Check your connection and try again.";
    case "UNAUTHORIZED":
      return error.message || "Your session has expired; sign in again.";
    case "TOO_MANY_REQUESTS":
      return data.retryAfter
        ? `You're sending too fast. Try again in ${data.retryAfter} s.`
        : "You're sending too fast. Wait a moment and try again.";
    case "INTERNAL_SERVER_ERROR":
      return "Something went wrong on the server. Try again.";
    default:
      // FORBIDDEN, BAD_REQUEST, NOT_FOUND, CONFLICT: the server's message is written for people.
      return error.message;
  }
}

export function isUnauthorized(error: unknown) {
  return isApiError(error) && error.data?.code === "UNAUTHORIZED";
}

/** Worth asking again: no answer at all, or the server failed. A refusal will only be refused again. */
export function isRetryable(error: unknown) {
  if (!isApiError(error)) return true;
  const code = error.data?.code;
  return code === undefined || code === "INTERNAL_SERVER_ERROR";
}
