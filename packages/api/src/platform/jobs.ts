import { EventEmitter } from "node:events";
import type { DatabaseLocation } from "@naafe/db";
import { type Clock, fromPglite, fromPrisma, type JobResult, PgBoss, type Queue } from "pg-boss";
import type { z } from "zod";

/**
 * The one durable job queue, on our own PostgreSQL (or the embedded PGlite): pg-boss. A job is
 * stored before `enqueue` resolves (or with the caller's transaction), claimed by exactly one
 * worker of any process (`FOR UPDATE SKIP LOCKED`), retried with exponential backoff when its
 * handler throws or its process dies mid-run, and moved to a dead-letter queue when it runs out
 * of attempts.
 */

export interface RetryPolicy {
  /** Attempts after the first. */
  limit: number;
  /** Seconds before the first retry; each later one waits about twice as long. */
  delaySeconds: number;
  /** The longest wait between two attempts. */
  maxDelaySeconds?: number;
}

export interface JobType<Payload> {
  readonly name: string;
  readonly payload: z.ZodType<Payload>;
  readonly retry: RetryPolicy;
  /** A run that takes longer counts as crashed: it is retried (by any process). */
  readonly timeoutSeconds: number;
  /** Cron expression (UTC) for a job that repeats; its payload is `{}`. */
  readonly cron: string | undefined;
  /** Seconds a completed job stays in the queue's table (pg-boss's default: 7 days). */
  readonly keepCompletedSeconds: number | undefined;
  /** Where jobs that ran out of attempts go. */
  readonly deadLetterName: string;
  /** This type's worker: `run` is called with the validated payload. */
  worker(run: (payload: Payload, attempt: JobAttempt) => Promise<void>, options?: WorkerOptions): JobWorker<Payload>;
}

export interface JobAttempt {
  jobId: string;
  /** 0 for the first run, then 1, 2, … */
  retryCount: number;
  /** Aborted when the job's time is up or the queue stops. */
  signal: AbortSignal;
}

export interface WorkerOptions {
  /** Jobs of this type one process runs at once. */
  concurrency?: number;
  /** Seconds between polls when idle (jobs enqueued by this process are picked up at once). */
  pollingIntervalSeconds?: number;
}

export interface JobWorker<Payload> {
  type: JobType<Payload>;
  run(payload: Payload, attempt: JobAttempt): Promise<void>;
  options: WorkerOptions;
}

/** Thrown by a handler for a job that can never succeed: no retry, straight to the dead letters. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

const DEFAULT_RETRY: RetryPolicy = { limit: 5, delaySeconds: 10, maxDelaySeconds: 3_600 };
/** pg-boss's own default: completed jobs stay a week. */
const DEFAULT_KEEP_COMPLETED_SECONDS = 7 * 86_400;

/** Declares a job type: a name (`capability.what`), a payload schema, and how it retries. */
export function defineJob<Schema extends z.ZodType>(definition: {
  name: string;
  payload: Schema;
  retry?: RetryPolicy;
  timeoutSeconds?: number;
  cron?: string;
  /**
   * Seconds a completed job is kept (at least 1). A job that runs every few seconds would
   * otherwise leave a week of completed rows behind.
   */
  keepCompletedSeconds?: number;
}): JobType<z.output<Schema>> {
  const keep = definition.keepCompletedSeconds;
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1)) {
    // pg-boss reads 0 as "never delete", the opposite of what a small number asks for.
    throw new Error(`Job type ${definition.name}: keepCompletedSeconds must be a whole number of seconds, at least 1.`);
  }
  const type: JobType<z.output<Schema>> = {
    name: definition.name,
    payload: definition.payload as z.ZodType<z.output<Schema>>,
    retry: definition.retry ?? DEFAULT_RETRY,
    timeoutSeconds: definition.timeoutSeconds ?? 300,
    cron: definition.cron,
    keepCompletedSeconds: keep,
    deadLetterName: `${definition.name}.dead`,
    worker: (run, options = {}) => ({ type, run, options }),
  };
  return type;
}

/** A Prisma transaction client (or anything with `$queryRawUnsafe`) to enqueue within. */
export interface Transaction {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface EnqueueOptions {
  /** Store the job with the caller's transaction: it exists if and only if that commits. */
  tx?: Transaction | undefined;
  /** Not before this time. */
  startAfter?: Date | undefined;
  /** A job id of the caller's choosing (a UUID): enqueueing the same id again adds nothing. */
  id?: string | undefined;
}

export type JobOutcome = "completed" | "retry" | "dead";

export interface JobSettled {
  name: string;
  jobId: string;
  outcome: JobOutcome;
  error?: unknown;
}

export interface JobQueueOptions {
  location: DatabaseLocation;
  /** Every job type this process may enqueue or run (workers.ts lists them). */
  types: JobType<unknown>[];
  clock?: Clock | undefined;
  /** The schema pg-boss keeps its tables in (default: `pgboss`, or `<DATABASE_SCHEMA>_jobs`). */
  schema?: string | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of workers of different payload types
type AnyWorker = JobWorker<any>;

export type JobQueue = Awaited<ReturnType<typeof createJobQueue>>;

/** Connects the queue and creates every type's queue; call `work` to start running jobs. */
export async function createJobQueue(options: JobQueueOptions) {
  const { location, clock } = options;
  const schema =
    options.schema ?? (location.kind === "postgres" && location.schema ? `${location.schema}_jobs` : "pgboss");
  const boss =
    location.kind === "pglite"
      ? new PgBoss({ db: fromPglite(location.pglite), backend: "pglite", schema, ...(clock ? { clock } : {}) })
      : new PgBoss({
          connectionString: location.url,
          schema,
          max: 4,
          application_name: "naafe-jobs",
          ...(clock ? { clock } : {}),
        });
  boss.on("error", (error) => options.onError?.(error));
  const settled = new EventEmitter<{ settled: [JobSettled] }>();
  await boss.start();

  const types = new Map<string, JobType<unknown>>();
  for (const type of options.types) {
    if (types.has(type.name)) throw new Error(`Job type ${type.name} is registered twice.`);
    types.set(type.name, type);
    const queueOptions: Omit<Queue, "name"> = {
      retryLimit: type.retry.limit,
      retryDelay: type.retry.delaySeconds,
      retryBackoff: true,
      expireInSeconds: type.timeoutSeconds,
      ...(type.retry.maxDelaySeconds ? { retryDelayMax: type.retry.maxDelaySeconds } : {}),
      // Always set, so a type that stops asking for less gets the default back on its existing queue.
      deleteAfterSeconds: type.keepCompletedSeconds ?? DEFAULT_KEEP_COMPLETED_SECONDS,
    };
    // Kept a while for support: what failed for good and why.
    await ensureQueue(type.deadLetterName, { retentionSeconds: 14 * 86_400, deleteAfterSeconds: 14 * 86_400 });
    // Creating it also warms pg-boss's queue cache, so an enqueue inside a transaction never
    // needs a connection of its own (PGlite has one, held by that transaction).
    await ensureQueue(type.name, { ...queueOptions, deadLetter: type.deadLetterName });
    if (type.cron) await boss.schedule(type.name, type.cron, {}, { tz: "UTC" });
  }
  // A schedule whose job type is gone (or no longer repeats) would pile up jobs nobody runs.
  for (const schedule of await boss.getSchedules()) {
    if (!types.get(schedule.name)?.cron) await boss.unschedule(schedule.name, schedule.key);
  }

  async function ensureQueue(name: string, queueOptions: Omit<Queue, "name">) {
    if (await boss.getQueue(name)) await boss.updateQueue(name, withoutCreateOnly(queueOptions));
    else await boss.createQueue(name, queueOptions);
  }

  function typeOf<Payload>(type: JobType<Payload>): JobType<Payload> {
    if (types.get(type.name) !== (type as JobType<unknown>)) {
      throw new Error(`Job type ${type.name} is not registered with the queue (apps/server/src/workers.ts).`);
    }
    return type;
  }

  let running = 0;
  const idle = new EventEmitter<{ idle: [] }>();

  async function runJob(
    worker: AnyWorker,
    job: { id: string; data: unknown; retryCount: number; signal: AbortSignal },
  ) {
    const { type } = worker;
    const parsed = type.payload.safeParse(job.data);
    if (!parsed.success) throw new PermanentJobError(`Invalid payload: ${parsed.error.message}`);
    running++;
    try {
      await worker.run(parsed.data, { jobId: job.id, retryCount: job.retryCount, signal: job.signal });
    } finally {
      if (--running === 0) idle.emit("idle");
    }
  }

  return {
    schema,
    boss,
    /** Now, by the queue's clock (a test clock in tests). */
    now: () => new Date(clock ? clock.now() : Date.now()),

    /** Stores a job; returns its id, or null when a job with the same `id` already exists. */
    async enqueue<Payload>(type: JobType<Payload>, payload: Payload, enqueueOptions: EnqueueOptions = {}) {
      const data = typeOf(type).payload.parse(payload) as object;
      return boss.send(type.name, data, {
        ...(enqueueOptions.tx ? { db: fromPrisma(enqueueOptions.tx) } : {}),
        ...(enqueueOptions.startAfter ? { startAfter: enqueueOptions.startAfter } : {}),
        ...(enqueueOptions.id ? { id: enqueueOptions.id } : {}),
      });
    },

    /** Starts running jobs of these types in this process. */
    async work(workers: AnyWorker[]) {
      for (const worker of workers) {
        const { name } = typeOf(worker.type);
        await boss.work(
          name,
          {
            perJobResults: true,
            localConcurrency: worker.options.concurrency ?? 1,
            pollingIntervalSeconds: worker.options.pollingIntervalSeconds ?? 2,
          },
          async (jobs): Promise<JobResult[]> => {
            const results: JobResult[] = [];
            for (const job of jobs) {
              try {
                await runJob(worker, job);
                results.push({ id: job.id, status: "completed" });
                settled.emit("settled", { name, jobId: job.id, outcome: "completed" });
              } catch (error) {
                const permanent = error instanceof PermanentJobError;
                const outcome = permanent || job.retryCount >= worker.type.retry.limit ? "dead" : "retry";
                results.push({ id: job.id, status: permanent ? "deadletter" : "failed", output: describe(error) });
                settled.emit("settled", { name, jobId: job.id, outcome, error });
              }
            }
            return results;
          },
        );
      }
    },

    /** Resolves once no handler runs in this process (tests move a test clock only between runs). */
    async idle() {
      await new Promise((resolve) => setImmediate(resolve));
      if (running > 0) await new Promise((resolve) => idle.once("idle", () => resolve(undefined)));
    },

    /** Calls `listener` after each run of a job in this process (tests wait on it). */
    onSettled(listener: (event: JobSettled) => void) {
      settled.on("settled", listener);
      return () => settled.off("settled", listener);
    },

    /** Jobs that ran out of attempts (or failed for good), oldest first, at most `limit`. */
    async deadLetters<Payload>(type: JobType<Payload>, limit = 100) {
      return boss.findJobs<Payload>(typeOf(type).deadLetterName, { limit });
    },

    /** Stops polling and waits (up to `timeoutMs`) for running jobs; unfinished ones run again later. */
    async stop(timeoutMs = 10_000) {
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
    },
  };
}

/** `updateQueue` refuses the options that can only be set when a queue is created. */
function withoutCreateOnly({ deadLetter: _d, retryDelayMax: _m, ...rest }: Omit<Queue, "name">) {
  return rest;
}

function describe(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
}
