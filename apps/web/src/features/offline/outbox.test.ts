import "fake-indexeddb/auto";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it, vi } from "vitest";
import { browserLock, createOutbox } from "./outbox.ts";
import { memoryStorage, type OutboxStorage, openOutboxStorage, type PendingMessage } from "./outbox-storage.ts";

let users = 0;
const newUser = () => `user-${++users}`;
const networkDown = () => new TRPCClientError("fetch failed");
const refused = (code: string) =>
  new TRPCClientError("no", { result: { error: { message: "no", code: -32000, data: { code } } } });

/** A server that stores each clientMessageId once, like ours, and remembers every attempt. */
function fakeServer() {
  const stored: string[] = [];
  const attempts: string[] = [];
  const send = vi.fn(async (item: PendingMessage) => {
    attempts.push(item.content);
    if (!stored.includes(item.clientMessageId)) stored.push(item.clientMessageId);
    return { messageId: `m-${item.clientMessageId}` };
  });
  return { send, stored, attempts };
}

// One lock for every "tab" of a test, as Web Locks are one per browser.
const sharedLock = browserLock();

function outboxFor(
  userId: string,
  storage: OutboxStorage,
  send: (item: PendingMessage) => Promise<unknown>,
  online = () => true,
) {
  return createOutbox({ userId, storage, send, isOnline: online, lock: sharedLock });
}

describe("outbox", () => {
  it("keeps what was sent offline in IndexedDB, and a reloaded page sends it in order", async () => {
    const user = newUser();
    const server = fakeServer();
    const offlinePage = outboxFor(user, await openOutboxStorage(), server.send, () => false);
    for (const text of ["one", "two", "three"]) offlinePage.add("c1", text);
    await vi.waitFor(async () => expect(await (await openOutboxStorage()).list(user)).toHaveLength(3));
    await offlinePage.flush();
    expect(server.send).not.toHaveBeenCalled();
    expect(offlinePage.getSnapshot().map((item) => item.status)).toEqual(["queued", "queued", "queued"]);
    offlinePage.dispose();

    // The reload: a new outbox on the same database, now online.
    const reloaded = outboxFor(user, await openOutboxStorage(), server.send);
    await reloaded.start();
    expect(server.attempts).toEqual(["one", "two", "three"]);
    expect(reloaded.getSnapshot()).toEqual([]);
    expect(await (await openOutboxStorage()).list(user)).toEqual([]);
  });

  it("two tabs of one person send each message once", async () => {
    const user = newUser();
    const server = fakeServer();
    const writer = outboxFor(user, await openOutboxStorage(), server.send, () => false);
    for (const text of ["a", "b", "c", "d"]) writer.add("c1", text);
    await vi.waitFor(async () => expect(await (await openOutboxStorage()).list(user)).toHaveLength(4));

    const tabs = [
      outboxFor(user, await openOutboxStorage(), server.send),
      outboxFor(user, await openOutboxStorage(), server.send),
    ];
    await Promise.all(tabs.map((tab) => tab.start()));
    expect(server.attempts).toEqual(["a", "b", "c", "d"]);
    expect(tabs.map((tab) => tab.getSnapshot())).toEqual([[], []]);
  });

  it("keeps the order behind a message the network dropped, and sends both when asked again", async () => {
    const user = newUser();
    const server = fakeServer();
    let down = true;
    const send = vi.fn(async (item: PendingMessage) => {
      if (down) throw networkDown();
      return server.send(item);
    });
    const outbox = outboxFor(user, await openOutboxStorage(), send);
    outbox.add("c1", "first");
    outbox.add("c1", "second");
    await vi.waitFor(() => expect(outbox.getSnapshot()[0]?.status).toBe("failed"));
    await outbox.flush();
    expect(send.mock.calls.map(([item]) => item.content)).not.toContain("second");
    expect(outbox.getSnapshot()[0]).toMatchObject({ content: "first", status: "failed", error: { code: undefined } });

    down = false;
    await outbox.flush();
    expect(server.attempts).toEqual(["first", "second"]);
    // Every attempt at "first" carried the same id, which is what lets the server store it once.
    const firstIds = send.mock.calls.filter(([item]) => item.content === "first").map(([item]) => item.clientMessageId);
    expect(firstIds.length).toBeGreaterThan(1);
    expect(new Set(firstIds).size).toBe(1);
  });

  it("sets a refused message aside (the person decides) and sends the rest", async () => {
    const user = newUser();
    const server = fakeServer();
    const send = vi.fn(async (item: PendingMessage) => {
      if (item.content === "bad") throw refused("BAD_REQUEST");
      return server.send(item);
    });
    const sent = vi.fn();
    const outbox = outboxFor(user, await openOutboxStorage(), send);
    outbox.onSent(sent);
    outbox.add("c1", "bad");
    outbox.add("c1", "good");
    await vi.waitFor(() => expect(server.attempts).toEqual(["good"]));
    expect(sent).toHaveBeenCalledTimes(1);
    expect(outbox.getSnapshot()).toMatchObject([{ content: "bad", status: "failed", error: { code: "BAD_REQUEST" } }]);

    // A refusal stays refused across a reload, and is not sent again by itself.
    const reloaded = outboxFor(user, await openOutboxStorage(), send);
    await reloaded.start();
    expect(reloaded.getSnapshot()).toMatchObject([{ content: "bad", status: "failed" }]);
    expect(send).toHaveBeenCalledTimes(2);

    await reloaded.discard(reloaded.getSnapshot()[0]?.clientMessageId ?? "");
    expect(await (await openOutboxStorage()).list(user)).toEqual([]);
  });

  it("works from memory where IndexedDB is unavailable, and says messages won't survive a reload", async () => {
    // As in some private modes: opening the database throws.
    const storage = await openOutboxStorage(() => Promise.reject(new DOMException("denied", "InvalidStateError")));
    expect(storage.durable).toBe(false);
    const server = fakeServer();
    const outbox = outboxFor(newUser(), storage, server.send);
    expect(outbox.getNotice()).toBe("volatile");
    outbox.add("c1", "still sent");
    await vi.waitFor(() => expect(server.attempts).toEqual(["still sent"]));
  });

  it("still sends when the device's storage is full, and says so", async () => {
    const full: OutboxStorage = {
      ...memoryStorage(),
      durable: true,
      put: () => Promise.reject(new DOMException("The quota has been exceeded.", "QuotaExceededError")),
    };
    const server = fakeServer();
    const outbox = outboxFor(newUser(), full, server.send);
    expect(outbox.getNotice()).toBeNull();
    outbox.add("c1", "over quota");
    await vi.waitFor(() => expect(server.attempts).toEqual(["over quota"]));
    expect(outbox.getNotice()).toBe("quota");
    expect(outbox.getSnapshot()).toEqual([]);
  });

  it("drops a message the live feed brought back, and gives each message its own id", () => {
    const outbox = outboxFor(
      newUser(),
      memoryStorage(),
      () => new Promise(() => {}),
      () => false,
    );
    const a = outbox.add("c1", "same text");
    const b = outbox.add("c1", "same text");
    expect(a.clientMessageId).not.toBe(b.clientMessageId);
    expect(b.createdAt).toBeGreaterThan(a.createdAt);
    outbox.acknowledge(a.clientMessageId);
    expect(outbox.getSnapshot().map((item) => item.clientMessageId)).toEqual([b.clientMessageId]);
  });
});
