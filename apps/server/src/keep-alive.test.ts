/**
 * tRPC's WebSocket keep-alive, as patched in `patches/@trpc__server@11.25.2.patch` (one ping
 * timer per connection, re-armed by every message, instead of a new timer per frame). The
 * server (`server.ts`) relies on it to drop connections that went silent without closing.
 */
import type { AddressInfo } from "node:net";
import { initTRPC } from "@trpc/server";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";

const PING_MS = 300;
const PONG_WAIT_MS = 200;
const router = initTRPC.create().router({});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function connect() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  applyWSSHandler({ wss, router, keepAlive: { enabled: true, pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS } });
  await new Promise((resolve) => wss.once("listening", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const state = { pings: 0, closed: false };
  client.on("message", (data) => {
    if (String(data) === "PING") state.pings++;
  });
  client.on("close", () => {
    state.closed = true;
  });
  await new Promise((resolve) => client.once("open", resolve));
  closers.push(async () => {
    client.close();
    await new Promise((resolve) => wss.close(resolve));
  });
  return { client, state };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = (assertion: () => void) => vi.waitFor(assertion, { timeout: 5_000, interval: 20 });

describe("tRPC's WebSocket keep-alive (patched)", () => {
  it("pings a quiet connection and drops it when no answer comes", async () => {
    const { state } = await connect();
    await waitFor(() => expect(state.closed).toBe(true));
    expect(state.pings).toBe(1);
  });

  it("keeps a connection that answers every ping, pinging it again each time", async () => {
    const { client, state } = await connect();
    client.on("message", (data) => {
      if (String(data) === "PING") client.send("PONG");
    });
    await waitFor(() => expect(state.pings).toBe(3));
    expect(state.closed).toBe(false);
  });

  it("does not ping a connection while it keeps sending", async () => {
    const { client, state } = await connect();
    for (let elapsed = 0; elapsed < 4 * PING_MS; elapsed += PING_MS / 6) {
      client.send("PONG");
      await sleep(PING_MS / 6);
    }
    expect(state.pings).toBe(0);
    expect(state.closed).toBe(false);
    // Then silence: pinged, and dropped without an answer.
    await waitFor(() => expect(state.closed).toBe(true));
    expect(state.pings).toBe(1);
  });
});
