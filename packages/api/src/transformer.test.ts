import fc from "fast-check";
import superjson, { type SuperJSONResult } from "superjson";
import { afterEach, describe, expect, it, vi } from "vitest";
import { transformer } from "./transformer.ts";

/** What clients receive, parsed back (so key order aside), or what was thrown instead. */
function wire(serialize: () => unknown) {
  try {
    return JSON.parse(JSON.stringify(serialize())) as unknown;
  } catch (error) {
    return { threw: String(error) };
  }
}
const same = (value: unknown) =>
  expect(wire(() => transformer.serialize(value))).toEqual(wire(() => superjson.serialize(value)));

/** What deserializing a payload gives, or what it throws; each side gets its own parsed copy. */
function outcome(deserialize: (payload: SuperJSONResult) => unknown, payload: unknown) {
  try {
    return { value: deserialize(JSON.parse(JSON.stringify(payload))) };
  } catch (error) {
    return { threw: String(error) };
  }
}
const sameBack = (payload: unknown) =>
  expect(outcome((p) => transformer.deserialize(p), payload)).toEqual(
    outcome((p) => superjson.deserialize(p), payload),
  );

const date = fc.date({ noInvalidDate: false });
const plainData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    date,
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(fc.string(), tie("value"), { maxKeys: 5 }),
}));

describe("transformer", () => {
  afterEach(() => vi.restoreAllMocks());

  it("serializes plain data with Dates exactly as superjson does", () => {
    fc.assert(
      fc.property(plainData.value, (value) => {
        same(value);
      }),
      { numRuns: 2000 },
    );
  });

  it("serializes anything else exactly as superjson does (Maps, undefined, shared references, …)", () => {
    const shared = { at: new Date(0) };
    const cases: unknown[] = [
      { shared, again: shared },
      { date: shared.at, again: shared.at },
      { missing: undefined },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      new Array(3).fill(1, 0, 1),
      { map: new Map([["a", 1]]), set: new Set([1]) },
      { big: 1n },
      { nan: Number.NaN },
      [Number.NEGATIVE_INFINITY],
      { minusZero: -0 },
      { "dotted.key": new Date(0), "back\\slash": new Date(1) },
      Object.assign(Object.create(null), { at: new Date(0) }),
      { invalid: new Date(Number.NaN) },
      new Date(0),
      "text",
      null,
    ];
    for (const value of cases) same(value);
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withSet: true,
          withBigInt: true,
          withNullPrototype: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          same(value);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("round-trips through superjson on the client", () => {
    const event = {
      messageId: "m1",
      seq: 3,
      content: "Hi",
      timestamp: new Date("2026-11-26T10:00:00Z"),
      clientMessageId: null,
    };
    const tracked = { id: "m1", data: event };
    const sent = JSON.parse(JSON.stringify(transformer.serialize(tracked)));
    expect(superjson.deserialize(sent)).toEqual(tracked);
  });

  it("does not call superjson for a message event (the fast path is taken)", () => {
    const serialize = vi.spyOn(superjson, "serialize");
    const event = { messageId: "m1", seq: 3, content: "Hi", timestamp: new Date(), clientMessageId: null };
    transformer.serialize({ id: "m1", data: event });
    transformer.serialize([{ conversations: [{ lastMessage: { timestamp: new Date() } }] }]);
    expect(serialize).not.toHaveBeenCalled();
  });

  it("deserializes plain data with Dates as superjson does, in place", () => {
    fc.assert(
      fc.property(plainData.value, (value) => {
        // Through `wire`: superjson refuses some keys (prototype pollution), and that is a payload too.
        sameBack(wire(() => transformer.serialize(value)));
        sameBack(wire(() => superjson.serialize(value)));
      }),
      { numRuns: 2000 },
    );
    const payload = JSON.parse(JSON.stringify(transformer.serialize({ a: [{ at: new Date(5) }] })));
    const json = payload.json;
    expect(transformer.deserialize(payload)).toBe(json); // revived where it lies, not copied
    expect(json.a[0].at).toEqual(new Date(5));
  });

  it("deserializes anything else as superjson does, malformed payloads included", () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withMap: true, withSet: true, withBigInt: true }), (value) => {
        sameBack(wire(() => superjson.serialize(value)));
      }),
      { numRuns: 1000 },
    );
    const malformed = [
      { json: { at: 1 }, meta: { values: { at: ["Date"] }, v: 1 } },
      { json: {}, meta: { values: { "a.b": ["Date"] }, v: 1 } },
      { json: { a: "x" }, meta: { values: { "a.b": ["Date"] }, v: 1 } },
      { json: { toString: "2026-01-01" }, meta: { values: { "constructor.name": ["Date"] }, v: 1 } },
      JSON.parse('{"json": {"__proto__": "2026-01-01"}, "meta": {"values": {"__proto__": ["Date"]}, "v": 1}}'),
      { json: { at: "2026-01-01" }, meta: { values: { at: ["Date"] } } },
      { json: "2026-01-01", meta: { values: ["Date"], v: 1 } },
      { json: { "a.b": "2026-01-01" }, meta: { values: { "a\\.b": ["Date"] }, v: 1 } },
    ];
    for (const payload of malformed) sameBack(payload);
  });

  it("does not call superjson to deserialize a message event", () => {
    const deserialize = vi.spyOn(superjson, "deserialize");
    const event = { messageId: "m1", seq: 3, content: "Hi", timestamp: new Date(7), clientMessageId: null };
    const payload = JSON.parse(JSON.stringify(transformer.serialize({ id: "m1", data: event })));
    expect(transformer.deserialize(payload)).toEqual({ id: "m1", data: event });
    expect(deserialize).not.toHaveBeenCalled();
  });
});
