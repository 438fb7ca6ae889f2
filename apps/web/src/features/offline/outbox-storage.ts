import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { ErrorInfo } from "../../describe-error.ts";

/** A message the server has not confirmed yet. */
export interface PendingMessage {
  /** Sent with every attempt, so the server stores the message once however often it is retried. */
  clientMessageId: string;
  /** Whose it is: tabs can be signed in as different people, and share one database. */
  userId: string;
  conversationId: string;
  content: string;
  /** Milliseconds since the epoch: messages go out in the order they were written. */
  createdAt: number;
  /** queued: waiting for a network; sending: on its way; failed: refused, waiting for the person. */
  status: "queued" | "sending" | "failed";
  error: ErrorInfo | null;
}

/** Where unsent messages are kept: IndexedDB when the browser allows it, else this tab's memory. */
export interface OutboxStorage {
  /** False when nothing survives a reload (private mode, storage blocked). */
  readonly durable: boolean;
  list(userId: string): Promise<PendingMessage[]>;
  get(clientMessageId: string): Promise<PendingMessage | undefined>;
  /** Rejects with a `QuotaExceededError` DOMException when the device is out of space. */
  put(item: PendingMessage): Promise<void>;
  delete(clientMessageId: string): Promise<void>;
}

interface OfflineSchema extends DBSchema {
  outbox: { key: string; value: PendingMessage; indexes: { byUser: string } };
  cache: { key: string; value: string };
}

export const DATABASE_NAME = "naafe-chat";

let database: Promise<IDBPDatabase<OfflineSchema>> | undefined;

/** The app's one IndexedDB database (outbox and query cache); rejects where IndexedDB is unavailable. */
export function openOfflineDatabase(): Promise<IDBPDatabase<OfflineSchema>> {
  database ??= (async () => {
    if (typeof indexedDB === "undefined") throw new Error("IndexedDB is unavailable.");
    return openDB<OfflineSchema>(DATABASE_NAME, 1, {
      upgrade(db) {
        db.createObjectStore("outbox", { keyPath: "clientMessageId" }).createIndex("byUser", "userId");
        db.createObjectStore("cache");
      },
    });
  })();
  // A failed open is not cached: the next caller may try again.
  database.catch(() => {
    database = undefined;
  });
  return database;
}

const byCreation = (a: PendingMessage, b: PendingMessage) => a.createdAt - b.createdAt;

export function indexedDbStorage(db: IDBPDatabase<OfflineSchema>): OutboxStorage {
  return {
    durable: true,
    list: async (userId) => (await db.getAllFromIndex("outbox", "byUser", userId)).sort(byCreation),
    get: (clientMessageId) => db.get("outbox", clientMessageId),
    put: async (item) => {
      await db.put("outbox", item);
    },
    delete: (clientMessageId) => db.delete("outbox", clientMessageId),
  };
}

export function memoryStorage(): OutboxStorage {
  const items = new Map<string, PendingMessage>();
  return {
    durable: false,
    list: async (userId) => [...items.values()].filter((item) => item.userId === userId).sort(byCreation),
    get: async (clientMessageId) => items.get(clientMessageId),
    put: async (item) => {
      items.set(item.clientMessageId, item);
    },
    delete: async (clientMessageId) => {
      items.delete(clientMessageId);
    },
  };
}

/** IndexedDB if it opens (it throws in some private modes and when blocked), else memory. */
export async function openOutboxStorage(open = openOfflineDatabase): Promise<OutboxStorage> {
  try {
    return indexedDbStorage(await open());
  } catch {
    return memoryStorage();
  }
}

export function isQuotaExceeded(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "QuotaExceededError" || error.code === 22);
}
