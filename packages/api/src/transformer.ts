import superjson, { type SuperJSONResult } from "superjson";

/**
 * superjson on the wire, with fast paths for what our procedures send and receive: plain
 * objects and arrays of strings, finite numbers, booleans, null and valid Dates. superjson's own
 * walker is general (classes, Maps, shared references, custom types) and allocated several
 * kilobytes per frame: it was the largest cost of handing an event to each subscriber, and in
 * the clients (walking each call's input, copying each event and walking its annotations) it
 * made a fifth of everything they allocated (docs/performance.md). Anything else goes to
 * superjson itself; tests hold both paths equal to superjson's. The server and our clients (web
 * app, benchmark) use it: `@naafe/api/transformer`.
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
  /** Payloads come straight from `JSON.parse`, so they are revived in place, not copied first. */
  deserialize(payload: SuperJSONResult): unknown {
    const dates = datesToRevive(payload);
    if (!dates) return superjson.deserialize(payload, { inPlace: true });
    for (const [parent, key] of dates) parent[key] = new Date(parent[key] as string);
    return payload.json;
  },
};

/**
 * Where `payload` holds Dates, as [parent, key] pairs, when Dates (at dotted paths, as the fast
 * serializer writes them) are its only annotations; null for anything else, left to superjson.
 * Every path is checked before any is revived, so a payload that is not ours is not half done.
 */
function datesToRevive(payload: SuperJSONResult): [Record<string, unknown>, string][] | null {
  const { json, meta } = payload;
  if (!meta) return [];
  if (meta.referentialEqualities || meta.v !== 1) return null;
  const { values } = meta;
  if (values === undefined) return [];
  if (typeof values !== "object" || values === null || Array.isArray(values)) return null;
  const dates: [Record<string, unknown>, string][] = [];
  for (const [dottedPath, annotation] of Object.entries(values)) {
    if (!Array.isArray(annotation) || annotation.length !== 1 || annotation[0] !== "Date") return null;
    if (dottedPath.includes("\\")) return null; // escaped keys: superjson parses those
    const path = dottedPath.split(".");
    const key = path.pop() as string;
    let parent: unknown = json;
    for (const step of path) {
      if (!isContainer(parent) || SPECIAL_KEY.test(step) || !Object.hasOwn(parent, step)) return null;
      parent = parent[step];
    }
    if (!isContainer(parent) || SPECIAL_KEY.test(key) || typeof parent[key] !== "string") return null;
    dates.push([parent, key]);
  }
  return dates;
}

const isContainer = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

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
