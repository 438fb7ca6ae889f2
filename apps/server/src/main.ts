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
console.log(
  `  Service API (/service): ${config.serviceKeys.length ? `on, ${config.serviceKeys.length} key(s)` : "off (set SERVICE_KEYS)"}` +
    `;  webhooks: ${config.webhooks ? `on → ${new URL(config.webhooks.url).origin}` : "off (set WEBHOOK_URL)"}`,
);
console.log(`  Contact masking: ${config.moderation.contactMasking}`);
console.log(
  `  Attachments: ${config.attachments.s3 ? `S3 bucket ${config.attachments.s3.bucket}${config.attachments.s3.endpoint ? ` at ${config.attachments.s3.endpoint}` : ""}` : `on disk in ${config.attachments.directory}`}`,
);
const { push, email } = config.notifications;
console.log(
  `  Web push: ${push ? "on" : "off (set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY)"}` +
    `;  email digests: ${email ? `on → ${email.smtpUrl ? `SMTP ${new URL(email.smtpUrl).host}` : `${email.outboxDir}/*.eml (set SMTP_URL to send)`}` : "off (set SMTP_URL)"}`,
);
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
