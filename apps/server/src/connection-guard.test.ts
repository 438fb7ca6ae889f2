import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { closeCodes, createConnectionGuard } from "./connection-guard.ts";

const limits = {
  maxConnectionsPerUser: 5,
  maxSubscriptionsPerConnection: 5,
  maxBufferedBytes: 256 * 1024,
  allowedOrigins: [],
  failedAuthPerMinute: 3,
};

/** A real WebSocket pair on localhost: the server side, and a client that can stop reading. */
async function socketPair() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => wss.once("listening", resolve));
  const serverSide = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  await new Promise((resolve) => client.once("open", resolve));
  return { server: await serverSide, client, close: () => wss.close() };
}

describe("connection guard", () => {
  it("drops a client that stops reading once its queue passes the bound, instead of buffering forever", async () => {
    const guard = createConnectionGuard(limits);
    const { server, client, close } = await socketPair();
    expect(guard.admit(server, { id: "slow" })).toBeNull();
    // The client's process is stuck: nothing is read from the socket any more.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 2_000 && server.readyState === WebSocket.OPEN; i++) server.send(chunk);
    await vi.waitFor(() => expect(server.readyState).not.toBe(WebSocket.OPEN), { timeout: 10_000 });
    // Never more than the bound plus the one frame in flight (and the kernel's own buffers).
    expect(server.bufferedAmount).toBeLessThan(limits.maxBufferedBytes + 2 * chunk.length);
    // A peer that does not read does not answer the close handshake either: it is cut off.
    await vi.waitFor(() => expect(guard.connectionsOf("slow")).toBe(0), { timeout: 5_000 });
    client.terminate();
    close();
  });

  it("keeps a client that reads", async () => {
    const guard = createConnectionGuard(limits);
    const { server, client, close } = await socketPair();
    guard.admit(server, { id: "fast" });
    let received = 0;
    client.on("message", () => received++);
    for (let i = 0; i < 200; i++) server.send("x".repeat(1024));
    await vi.waitFor(() => expect(received).toBe(200));
    expect(server.readyState).toBe(WebSocket.OPEN);
    expect(guard.connectionsOf("fast")).toBe(1);
    client.close();
    close();
  });

  it("counts failed sign-ins per address over the last minute", () => {
    let now = 0;
    const guard = createConnectionGuard(limits, () => now);
    for (let i = 0; i < 3; i++) guard.authFailed("10.0.0.1");
    expect(guard.blocked("10.0.0.1")).toBe(true);
    expect(guard.blocked("10.0.0.2")).toBe(false);
    now += 61_000;
    expect(guard.blocked("10.0.0.1")).toBe(false);
  });

  it("revokes tokens issued up to the moment of revocation only", () => {
    let now = 1_000_000;
    const guard = createConnectionGuard(limits, () => now);
    guard.revoke("sara");
    expect(guard.revoked({ id: "sara", issuedAt: 999 })).toBe(true);
    expect(guard.revoked({ id: "sara", issuedAt: 1_000 })).toBe(true);
    now += 2_000;
    expect(guard.revoked({ id: "sara", issuedAt: 1_001 })).toBe(false);
    expect(guard.revoked({ id: "omar", issuedAt: 1 })).toBe(false);
    expect(closeCodes.unauthorized).toBe(4401);
  });
});
