/**
 * The per-call path of tRPC as patched in `patches/@trpc__server@11.25.2.patch`: the client's
 * promise for a call no longer builds an AbortError after its value has arrived, and the
 * middleware chain and response transform use native object spreads instead of the build's
 * key-by-key helper (see docs/performance.md). What they promise is unchanged, checked here.
 */
import { initTRPC } from "@trpc/server";
import { observable, observableToPromise } from "@trpc/server/observable";
import superjson from "superjson";
import { describe, expect, it } from "vitest";

describe("observableToPromise", () => {
  it("resolves with the first value and builds no AbortError afterwards", async () => {
    const built: unknown[] = [];
    const original = AbortController;
    // Counts the controllers the call creates: an AbortError is only built through one.
    globalThis.AbortController = class extends original {
      constructor() {
        super();
        built.push(this);
      }
    };
    try {
      const value = await observableToPromise(
        observable<number>((observer) => {
          observer.next(42);
          observer.complete();
        }),
      );
      expect(value).toBe(42);
      expect(built).toHaveLength(0);
    } finally {
      globalThis.AbortController = original;
    }
  });

  it("rejects like an aborted operation when the observable completes without a value", async () => {
    const call = observableToPromise(observable<number>((observer) => observer.complete()));
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects with the observable's error", async () => {
    const failure = new Error("boom");
    await expect(observableToPromise(observable<number>((observer) => observer.error(failure)))).rejects.toBe(failure);
  });
});

describe("middleware chain and response transform", () => {
  const t = initTRPC.context<{ user: string | null; trace: string[] }>().create({ transformer: superjson });
  const withRole = t.middleware(({ ctx, next }) => next({ ctx: { role: ctx.user ? "member" : "guest" } }));
  const router = t.router({
    whoami: t.procedure
      .use(withRole)
      .use(({ ctx, next }) => next({ ctx: { trace: [...ctx.trace, "second"] } }))
      .query(({ ctx }) => ({ user: ctx.user, role: ctx.role, trace: ctx.trace, at: new Date(0) })),
  });

  it("merges each middleware's ctx over the one before, keeping the rest", async () => {
    const caller = t.createCallerFactory(router)({ user: "ada", trace: ["first"] });
    await expect(caller.whoami()).resolves.toEqual({
      user: "ada",
      role: "member",
      trace: ["first", "second"],
      at: new Date(0),
    });
  });

  it("serializes a response's data with the transformer and leaves the envelope as it was", async () => {
    const { transformTRPCResponse } = await import("@trpc/server/unstable-core-do-not-import");
    const item = { id: 7, jsonrpc: "2.0" as const, result: { type: "data" as const, data: { at: new Date(0) } } };
    const sent = transformTRPCResponse(t._config, item);
    expect(sent).toEqual({
      id: 7,
      jsonrpc: "2.0",
      result: { type: "data", data: superjson.serialize({ at: new Date(0) }) },
    });
    expect(item.result.data.at).toBeInstanceOf(Date); // the input is not changed
  });
});
