import superjson, { type SuperJSONResult } from "superjson";

/**
 * superjson on the wire, with a fast path for what our procedures send: plain objects and
 * arrays of strings, finite numbers, booleans, null and valid Dates. superjson's own walker is
 * general (classes, Maps, shared references, custom types) and allocated several kilobytes per
 * frame: it was the largest cost of handing an event to each subscriber (docs/performance.md).
 * Anything else goes to superjson itself; tests hold the fast path's output equal to superjson's.
 * Clients keep using plain superjson.
 */
export const transformer = {
  serialize(value: unknown): SuperJSONResult {
    if (typeof value !== "object" || value === null || value instanceof Date) return superjson.serialize(value);
    const walk = { path: [] as string[], seen: new Set<object>(), dates: null as Record<string, ["Date"]> | null };
    const json = plain(value, walk);
    if (json === NOT_PLAIN) return superjson.serialize(value);
    return walk.dates
      ? { json: json as SuperJSONResult["json"], meta: { values: walk.dates, v: 1 } }
      : { json: json as SuperJSONResult["json"] };
  },
  deserialize: (payload: SuperJSONResult) => superjson.deserialize(payload),
};

const NOT_PLAIN = Symbol("not plain");
// superjson escapes these in paths, or refuses them (prototype pollution): leave them to it.
const SPECIAL_KEY = /[.\\]|^(__proto__|constructor|prototype)$/;

interface Walk {
  path: string[];
  /** superjson records an object met twice (a shared reference); so this walk gives up. */
  seen: Set<object>;
  /** superjson's annotations: each Date's dotted path. */
  dates: Record<string, ["Date"]> | null;
}

function plain(value: unknown, walk: Walk): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      // NaN, ±Infinity and -0 are annotated by superjson.
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_PLAIN;
    case "object":
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (walk.seen.has(value)) return NOT_PLAIN;
  walk.seen.add(value);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return NOT_PLAIN;
    walk.dates ??= {};
    walk.dates[walk.path.join(".")] = ["Date"];
    return value.toISOString();
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) return NOT_PLAIN;
      walk.path.push(String(index));
      const item = plain(value[index], walk);
      walk.path.pop();
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[index] = item;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (SPECIAL_KEY.test(key)) return NOT_PLAIN;
    walk.path.push(key);
    const item = plain((value as Record<string, unknown>)[key], walk);
    walk.path.pop();
    if (item === NOT_PLAIN) return NOT_PLAIN;
    out[key] = item;
  }
  return out;
}
