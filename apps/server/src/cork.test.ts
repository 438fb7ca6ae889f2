import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { writePerTick } from "./cork.ts";

/** A real WebSocket pair whose server side counts the writes its TCP socket makes. */
async function countedPair(cork: boolean) {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  let writes = 0;
  const serverSide = new Promise<WebSocket>((resolve) => {
    http.on("upgrade", (req, socket, head) => {
      const counted = socket as Socket & Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
      for (const method of ["_write", "_writev"] as const) {
        const original = counted[method].bind(counted);
        counted[method] = (...args: unknown[]) => {
          writes++;
          return original(...args);
        };
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (cork) writePerTick(ws, socket);
        resolve(ws);
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  await new Promise((resolve) => client.once("open", resolve));
  const server = await serverSide;
  writes = 0;
  return {
    server,
    received,
    writes: () => writes,
    close() {
      client.close();
      wss.close();
      http.close();
    },
  };
}

async function sendThreeInOneTick(cork: boolean) {
  const pair = await countedPair(cork);
  pair.server.send("ack");
  pair.server.send("event");
  await Promise.resolve();
  pair.server.send("after a microtask");
  await expect.poll(() => pair.received.length).toBe(3);
  pair.close();
  return { writes: pair.writes(), received: pair.received };
}

describe("writePerTick", () => {
  it("sends the frames of one tick in one write, in order", async () => {
    const corked = await sendThreeInOneTick(true);
    expect(corked.received).toEqual(["ack", "event", "after a microtask"]);
    expect(corked.writes).toBe(1);
    // Without it, every frame is its own write (the system call this saves).
    expect((await sendThreeInOneTick(false)).writes).toBe(3);
  });

  it("still sends frames of later ticks", async () => {
    const pair = await countedPair(true);
    pair.server.send("one");
    await new Promise((resolve) => setTimeout(resolve, 5));
    pair.server.send("two");
    await expect.poll(() => pair.received).toEqual(["one", "two"]);
    expect(pair.writes()).toBe(2);
    pair.close();
  });
});
