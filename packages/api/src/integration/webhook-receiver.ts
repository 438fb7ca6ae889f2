import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the test receiver does with the next request. */
export type Answer = number | "hang";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answer: Answer;
}

/**
 * A webhook endpoint for tests, on 127.0.0.1: answers each request as `answer` says, records
 * every request, can go down (`stop`) and come back on the same port (`listen`).
 */
export async function startWebhookReceiver(answer: (request: number) => Answer = () => 200) {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const waiting: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const reply = answer(received.length);
      received.push({ headers: req.headers, body, answer: reply });
      for (const waiter of waiting.filter((w) => received.length >= w.count)) waiter.resolve();
      if (reply === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(reply, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  let port = 0;
  async function listen() {
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  }
  async function stop() {
    for (const res of hanging) res.destroy();
    hanging.clear();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await listen();
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    /** Resolves once `count` requests have arrived in all. */
    receivedCount(count: number) {
      return received.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiting.push({ count, resolve }));
    },
    listen,
    stop,
    async [Symbol.asyncDispose]() {
      if (server.listening) await stop();
    },
  };
}
