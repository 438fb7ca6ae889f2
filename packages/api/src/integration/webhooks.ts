import http from "node:http";
import https from "node:https";
import type { PrismaClient } from "@naafe/db";
import { Webhook } from "standardwebhooks";
import { z } from "zod";
import { defineJob, type JobQueue, PermanentJobError } from "../platform/jobs.ts";
import type { Outbox } from "../platform/outbox.ts";
import { type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.ts";
import { publicOnlyLookup, webhookUrlProblem } from "./webhook-target.ts";

/**
 * Signed webhooks to the marketplace backend (Standard Webhooks: `webhook-id`,
 * `webhook-timestamp`, `webhook-signature`). Events wait in the outbox until the relay moves
 * them, in one transaction, into the delivery log and onto the job queue; each delivery is then
 * retried with exponential backoff until the endpoint answers 2xx, for up to 24 hours, then
 * dead-lettered. At least once: a receiver dedupes on `webhook-id` (the event id).
 */
export interface WebhookConfig {
  url: string;
  /** `whsec_` followed by the base64 key. */
  secret: string;
  /** Development and tests only: loopback and private targets, and plain http. */
  allowPrivate: boolean;
  /** How long one attempt may wait for an answer. */
  timeoutMs: number;
}

/** How long a delivery is retried before it is dead-lettered. */
export const DELIVERY_WINDOW_MS = 24 * 60 * 60 * 1000;
const RELAY_BATCH = 100;

export const deliverWebhookJob = defineJob({
  name: "webhooks.deliver",
  payload: z.object({ eventId: z.string().min(1) }),
  // About 10 retries in the first hour and a half, then one an hour; the 24-hour window ends it.
  retry: { limit: 60, delaySeconds: 5, maxDelaySeconds: 3_600 },
  timeoutSeconds: 60,
});

/** The relay's backstop: events a crash left in the outbox go out within a minute. */
export const relayOutboxJob = defineJob({
  name: "webhooks.relay",
  payload: z.object({}),
  cron: "* * * * *",
  retry: { limit: 1, delaySeconds: 5 },
  timeoutSeconds: 120,
});

export const webhookJobTypes = [deliverWebhookJob, relayOutboxJob];

interface OutboxRow {
  id: string;
  type: string;
  payload: unknown;
  createdAt: Date;
}

export interface WebhookDeps {
  prisma: PrismaClient;
  queue: JobQueue;
  config: WebhookConfig;
  breaker?: CircuitBreaker | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

export function createWebhooks({ prisma, queue, config, onError, ...deps }: WebhookDeps) {
  const problem = webhookUrlProblem(config.url, config);
  if (problem) throw new Error(`WEBHOOK_URL ${problem}.`);
  const endpoint = config.url;
  const signer = new Webhook(config.secret);
  const breaker =
    deps.breaker ??
    createCircuitBreaker({
      threshold: 5,
      cooldownMs: 30_000,
      maxCooldownMs: 600_000,
      now: () => queue.now().getTime(),
    });
  // The lookup runs when a connection is made, so a name that resolves to an internal address
  // then (DNS rebinding) is refused even though it resolved to a public one before.
  const agentOptions = { keepAlive: true, ...(config.allowPrivate ? {} : { lookup: publicOnlyLookup }) };
  const agent = endpoint.startsWith("https:") ? new https.Agent(agentOptions) : new http.Agent(agentOptions);

  /** Moves outbox events into the delivery log and onto the queue, a batch per transaction. */
  async function relay(): Promise<number> {
    let moved = 0;
    for (;;) {
      const batch = await prisma.$transaction(async (tx) => {
        const events = await tx.$queryRaw<OutboxRow[]>`
          DELETE FROM "OutboxEvent" WHERE "id" IN (
            SELECT "id" FROM "OutboxEvent" ORDER BY "createdAt" LIMIT ${RELAY_BATCH} FOR UPDATE SKIP LOCKED)
          RETURNING "id", "type", "payload", "createdAt"`;
        if (events.length === 0) return 0;
        await tx.webhookDelivery.createMany({
          data: events.map((event) => ({
            id: event.id,
            endpoint,
            type: event.type,
            payload: event.payload as object,
            createdAt: event.createdAt,
          })),
          skipDuplicates: true,
        });
        for (const event of events) await queue.enqueue(deliverWebhookJob, { eventId: event.id }, { tx });
        return events.length;
      });
      moved += batch;
      if (batch < RELAY_BATCH) return moved;
    }
  }

  // One relay at a time per process; a nudge during a run asks for one more run after it.
  let running: Promise<void> | null = null;
  let again = false;
  function nudge() {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await relay().catch((error: unknown) => onError?.(error));
      } while (again);
      running = null;
    })();
  }

  async function deliver({ eventId }: { eventId: string }) {
    const delivery = await prisma.webhookDelivery.findUnique({ where: { id: eventId } });
    if (delivery?.status !== "pending") return;
    const now = queue.now();
    if (now.getTime() - delivery.createdAt.getTime() >= DELIVERY_WINDOW_MS) {
      await prisma.webhookDelivery.update({ where: { id: eventId }, data: { status: "dead" } });
      throw new PermanentJobError(`Not delivered within 24 hours (${delivery.attempts} attempts).`);
    }
    const admitted = breaker.admit(endpoint);
    if (admitted !== true) throw new Error(`The endpoint's circuit is open for ${Math.ceil(admitted / 1000)} s more.`);

    const body = JSON.stringify({ type: delivery.type, timestamp: delivery.createdAt, data: delivery.payload });
    let statusCode: number | null = null;
    let failure: string | null = null;
    try {
      statusCode = await post(body, signedHeaders(signer, eventId, now, body));
      if (statusCode < 200 || statusCode >= 300) failure = `The endpoint answered HTTP ${statusCode}.`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    await prisma.webhookDelivery.update({
      where: { id: eventId },
      data: {
        attempts: { increment: 1 },
        lastAttemptAt: now,
        lastStatusCode: statusCode,
        lastError: failure,
        ...(failure ? {} : { status: "delivered", deliveredAt: now }),
      },
    });
    if (!failure) return breaker.succeeded(endpoint);
    breaker.failed(endpoint, { gone: statusCode === 410 });
    throw new Error(failure);
  }

  function post(body: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = (endpoint.startsWith("https:") ? https : http).request(
        endpoint,
        { method: "POST", agent, headers, timeout: config.timeoutMs },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error(`No answer within ${config.timeoutMs} ms.`)));
      request.on("error", reject);
      request.end(body);
    });
  }

  const outbox: Outbox = { recorded: nudge };

  return {
    outbox,
    relay,
    breaker,
    workers: [
      deliverWebhookJob.worker(deliver, { concurrency: 4 }),
      relayOutboxJob.worker(async () => void (await relay())),
    ],
    /** Waits for a relay this process is running (tests and shutdown). */
    async settled() {
      while (running) await running;
    },
    close() {
      agent.destroy();
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;

/** The Standard Webhooks headers for one attempt: signed over `id.timestamp.body`. */
export function signedHeaders(signer: Webhook, id: string, at: Date, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "naafe-chat-webhooks",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signer.sign(id, at, body),
  };
}

/** The delivery log for support: newest first, at most `limit`, optionally one status. */
export async function listDeliveries(
  prisma: PrismaClient,
  { status, limit }: { status?: "pending" | "delivered" | "dead" | undefined; limit: number },
) {
  return prisma.webhookDelivery.findMany({
    where: status ? { status } : {},
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: limit,
  });
}
