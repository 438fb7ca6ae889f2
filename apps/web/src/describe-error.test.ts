import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { describeError, isRetryable, isUnauthorized } from "./describe-error.ts";

function apiError(message: string, data: Record<string, unknown> | undefined) {
  return new TRPCClientError(message, { result: data ? { error: { message, code: -32000, data } } : undefined });
}

describe("describeError", () => {
  it("passes on the server's sentence for refusals a person can act on", () => {
    expect(describeError(apiError("You are not a participant in this conversation.", { code: "FORBIDDEN" }))).toBe(
      "You are not a participant in this conversation.",
    );
    expect(describeError(apiError("content: A message cannot be empty.", { code: "BAD_REQUEST" }))).toBe(
      "content: A message cannot be empty.",
    );
  });

  it("says when to retry after too many requests", () => {
    expect(describeError(apiError("slow down", { code: "TOO_MANY_REQUESTS", retryAfter: 3 }))).toBe(
      "You're sending too fast. Try again in 3 seconds.",
    );
  });

  it("tells an expired session from a network failure", () => {
    const expired = apiError("Your session has expired; sign in again.", { code: "UNAUTHORIZED" });
    expect(describeError(expired)).toBe("Your session has expired; sign in again.");
    expect(isUnauthorized(expired)).toBe(true);
    expect(describeError(apiError("fetch failed", undefined))).toMatch(/Can't reach the server/);
  });

  it("hides internal errors behind a plain sentence", () => {
    expect(describeError(apiError("TypeError: x is undefined", { code: "INTERNAL_SERVER_ERROR" }))).toBe(
      "Something went wrong on the server. Try again.",
    );
    expect(describeError(new Error("boom"))).toBe("Something went wrong. Try again.");
  });

  it("retries only what could go better the second time", () => {
    expect(isRetryable(apiError("fetch failed", undefined))).toBe(true);
    expect(isRetryable(apiError("oops", { code: "INTERNAL_SERVER_ERROR" }))).toBe(true);
    expect(isRetryable(apiError("no", { code: "FORBIDDEN" }))).toBe(false);
    expect(isRetryable(apiError("expired", { code: "UNAUTHORIZED" }))).toBe(false);
  });
});
