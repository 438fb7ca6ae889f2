import { queriesSent } from "./count-queries.ts";
import { errorText, type MemoryUsage, type ServerMessage, type ServerRequest } from "./protocol.ts";
import { type Sql, seedBacklog, seedPairs } from "./seed.ts";

/**
 * Answers the runner's requests in a server child: memory readings (after a full GC when the
 * child runs with --expose-gc), seeding through the server's own database connection, stop.
 */
export function answerRunner({ sql, stop }: { sql: Sql; stop: () => Promise<void> }) {
  const send = (message: ServerMessage) => process.send?.(message);
  process.on("message", async (request: ServerRequest) => {
    try {
      switch (request.op) {
        case "memory":
          send({ type: "reply", id: request.id, result: memory(request.gc) });
          break;
        case "seedPairs":
          await seedPairs(sql, request.prefix, request.pairs);
          send({ type: "reply", id: request.id });
          break;
        case "seedBacklog":
          send({ type: "reply", id: request.id, result: await seedBacklog(sql, request.prefix, request.count) });
          break;
        case "stop":
          await stop();
          send({ type: "reply", id: request.id });
          // Exit normally so --cpu-prof writes its profile.
          process.disconnect();
          process.exit(0);
      }
    } catch (error) {
      send({
        type: "reply",
        id: request.id,
        error: errorText(error),
      });
    }
  });
  // The runner died: do not linger holding the port and the database.
  process.on("disconnect", () => process.exit(0));
}

let eluMark = performance.eventLoopUtilization();

function memory(gc: boolean): MemoryUsage {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) {
    collect();
    collect();
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  // Event-loop utilisation since the previous reading: near 1, requests queue in this process.
  const elu = performance.eventLoopUtilization(eluMark);
  eluMark = performance.eventLoopUtilization();
  return {
    rss,
    heapUsed,
    heapTotal,
    external,
    arrayBuffers,
    eventLoopUtilization: elu.utilization,
    queries: queriesSent(),
  };
}
