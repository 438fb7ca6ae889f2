import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "./trpc.ts";

/** An error as node-postgres or PGlite reports it: the SQLSTATE as `code`. */
const pgError = (code: string, message = "refused") => Object.assign(new Error(message), { code });

describe("a database that refuses or lost its connections", () => {
  it.each([
    ["too many connections", "53300"],
    ["login refused", "28P01"],
    ["server shutting down", "57P01"],
    ["server starting up", "57P03"],
    ["connection failure", "08006"],
  ])("is SERVICE_UNAVAILABLE, not a bug: %s (%s)", (_, code) => {
    expect(isDatabaseUnavailable(pgError(code))).toBe(true);
    // However Prisma's adapter wraps it.
    expect(isDatabaseUnavailable({ meta: { driverAdapterError: { cause: pgError(code) } } })).toBe(true);
  });

  it("is not claimed for errors of the statement itself", () => {
    expect(isDatabaseUnavailable(pgError("23505", "duplicate key"))).toBe(false);
    expect(isDatabaseUnavailable(pgError("42P01", "relation does not exist"))).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
  });
});

describe("what a refused call tells the client", () => {
  it("carries no stack trace, whatever NODE_ENV says", async () => {
    const { appRouter } = await import("./root.ts");
    const { getErrorShape, TRPCError } = await import("@trpc/server");
    const shape = getErrorShape({
      config: appRouter._def._config,
      error: new TRPCError({ code: "BAD_REQUEST", message: "nope" }),
      type: "query",
      path: "chat.messages",
      input: undefined,
      ctx: undefined,
    });
    expect(shape.data).not.toHaveProperty("stack");
  });
});
