/** Our server, started exactly as `apps/server/src/main.ts` starts it, plus the runner's IPC channel. */

import { loadConfig } from "../apps/server/src/env.ts";
import { startServer } from "../apps/server/src/server.ts";
import "./count-queries.ts";
import { answerRunner } from "./ipc-server.ts";

const server = await startServer(loadConfig(process.env));
answerRunner({
  sql: (text, params) => server.db.prisma.$queryRawUnsafe(text, ...params),
  stop: () => server.close(),
});
process.send?.({ type: "ready", url: `${server.url.replace(/^http/, "ws")}/trpc`, store: server.db.kind });
