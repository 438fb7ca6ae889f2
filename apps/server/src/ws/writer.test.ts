import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { createWriter } from "./writer.ts";

/** A real WebSocket pair whose server side counts the writes its TCP socket makes, and its writer. */
async function countedPair() {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  let writes = 0;
  const serverSide = new Promise<{ ws: WebSocket; socket: Socket }>((resolve) => {
    http.on("upgrade", (req, socket: Socket, head) => {
      const counted = socket as Socket & Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
      for (const method of ["_write", "_writev"] as const) {
        const original = counted[method].bind(counted);
        counted[method] = (...args: unknown[]) => {
          writes++;
          return original(...args);
        };
      }
      wss.handleUpgrade(req, socket, head, (ws) => resolve({ ws, socket }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  await new Promise((resolve) => client.once("open", resolve));
  const { ws, socket } = await serverSide;
  const writer = createWriter(ws, socket, { maxBufferedBytes: 1 << 20, drainTimeoutMs: 1_000, onSlow: () => {} });
  writes = 0;
  return {
    ws,
    writer,
    received,
    writes: () => writes,
    close() {
      client.close();
      wss.close();
      http.close();
    },
  };
}

describe("the writer", () => {
  it("sends the frames of one tick in one write, in order; sent directly, each is a write of its own", async () => {
    const pair = await countedPair();
    pair.writer.send("ack");
    pair.writer.send("event");
    await Promise.resolve();
    pair.writer.send("after a microtask");
    await expect.poll(() => pair.received.length).toBe(3);
    expect(pair.received).toEqual(["ack", "event", "after a microtask"]);
    expect(pair.writes()).toBe(1);

    // The system call this saves: the same three frames through ws directly.
    for (const frame of ["a", "b", "c"]) pair.ws.send(frame);
    await expect.poll(() => pair.received.length).toBe(6);
    expect(pair.writes()).toBe(4);
    pair.close();
  });

  it("still sends the frames of later ticks", async () => {
    const pair = await countedPair();
    pair.writer.send("one");
    await expect.poll(() => pair.received).toEqual(["one"]);
    pair.writer.send("two");
    await expect.poll(() => pair.received).toEqual(["one", "two"]);
    expect(pair.writes()).toBe(2);
    pair.close();
  });
});
