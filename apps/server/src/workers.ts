import {
  attachmentJobTypes,
  attachmentWorkers,
  type BlobStorage,
  type Conversations,
  closeAfterGraceJob,
  createJobQueue,
  createNotifier,
  createWebhooks,
  type JobType,
  type Mailer,
  type Notifier,
  notificationJobTypes,
  type Pusher,
  type Services,
  type UnsubscribeLinks,
  type Viewing,
  webhookJobTypes,
} from "@naafe/api";
import type { Database } from "@naafe/db";
import type { Logger } from "pino";
import type { Config } from "./env.ts";

/**
 * Every job type and worker of the server, in one place. A capability defines its job types
 * (`defineJob`: name, zod payload, retry policy, optional cron) and workers in its own folder;
 * they are listed here, and the server starts them once its services exist.
 */
export async function startJobs({
  db,
  config,
  log,
  storage,
}: {
  db: Database;
  config: Config;
  log: Logger;
  storage: BlobStorage;
}) {
  const types: JobType<unknown>[] = [
    ...attachmentJobTypes,
    ...(config.webhooks ? webhookJobTypes : []),
    ...notificationJobTypes,
    closeAfterGraceJob,
  ];
  const queue = await createJobQueue({
    location: db.location,
    types,
    onError: (error) => log.warn({ err: error }, "job queue error; it retries by itself"),
  });
  const webhooks = config.webhooks
    ? createWebhooks({
        prisma: db.prisma,
        queue,
        config: config.webhooks,
        onError: (error) => log.warn({ err: error }, "webhook events not relayed yet; the relay retries every minute"),
      })
    : null;
  let notifier: Notifier | null = null;
  return {
    queue,
    webhooks,
    /** Starts running jobs, once the services their workers call exist. */
    async work(services: Services) {
      await queue.work([
        ...attachmentWorkers({ db, storage }),
        ...(webhooks?.workers ?? []),
        ...services.moderation.workers,
      ]);
      // Events a previous run recorded but did not relay go out now, not at the next minute.
      webhooks?.outbox.recorded();
    },
    /** Starts pushing and emailing (it needs the chat's services, which are made after the queue). */
    async startNotifications(deps: {
      conversations: Pick<Conversations, "get">;
      viewing: Viewing;
      pusher: Pusher | null;
      mailer: Mailer | null;
      links: UnsubscribeLinks | null;
    }) {
      notifier = createNotifier({ prisma: db.prisma, queue, ...deps, config: config.notifications });
      await queue.work(notifier.workers);
      await notifier.start();
      return notifier;
    },
    /** Finishes the jobs that are running (those that do not finish run again later) and disconnects. */
    async close() {
      await webhooks?.settled();
      await queue.stop();
      webhooks?.close();
    },
  };
}
