import { ConfigError, loadConfig } from "./env.ts";
import { startServer } from "./server.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const server = await startServer(config);
console.log(`\n  Naafe Chat: ${server.url}  (${server.db.kind}${config.demo ? ", demo mode" : ""})`);
if (config.demo)
  console.log("  Sign in as a demo user in the page, or get a token with: pnpm token demo-seeker-sara\n");

// Supervisors expect a signal to end the process: a database or Redis that stopped answering
// must not hold a graceful shutdown forever.
const SHUTDOWN_DEADLINE_MS = 15_000;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      server.log.error(`shutdown took more than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway`);
      server.log.flush();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
