import { transformer } from "@naafe/api/transformer";
import { createAsyncStoragePersister } from "@tanstack/query-async-storage-persister";
import type { AsyncStorage, PersistedClient, PersistQueryClientOptions } from "@tanstack/react-query-persist-client";
import { removeOldestQuery } from "@tanstack/react-query-persist-client";
import { openOfflineDatabase } from "./outbox-storage.ts";

/** IndexedDB as a key-value store for the query cache; where it is unavailable, nothing is kept. */
const cacheStorage: AsyncStorage<string> = {
  async getItem(key) {
    try {
      return (await (await openOfflineDatabase()).get("cache", key)) ?? null;
    } catch {
      return null;
    }
  },
  async setItem(key, value) {
    // A quota error reaches the persister, which retries with its oldest query dropped.
    await (await openOfflineDatabase()).put("cache", value, key);
  },
  async removeItem(key) {
    await (await openOfflineDatabase()).delete("cache", key).catch(() => {});
  },
};

/** Who the token belongs to (its `sub`), so each person's cache is their own; the token itself if unreadable. */
export function cacheOwner(token: string): string {
  try {
    const payload = JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as {
      sub?: unknown;
    };
    return typeof payload.sub === "string" ? payload.sub : token;
  } catch {
    return token;
  }
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * The conversation list, the last loaded pages and the rest of the query cache, kept in
 * IndexedDB so the app opens without a network and shows what it last saw. Dates survive the
 * round trip through the API's own transformer (superjson).
 */
export function persistOptions(token: string): Omit<PersistQueryClientOptions, "queryClient"> {
  return {
    persister: createAsyncStoragePersister({
      storage: cacheStorage,
      key: `query-cache:${cacheOwner(token)}`,
      throttleTime: 1_000,
      serialize: (client) => JSON.stringify(transformer.serialize(client)),
      deserialize: (text) => transformer.deserialize(JSON.parse(text)) as PersistedClient,
      retry: removeOldestQuery,
    }),
    maxAge: 7 * DAY,
    // A new app version may shape its cache differently: start it afresh.
    buster: "1",
  };
}
