import { type Backend, openTestDatabase, prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { TestClock } from "pg-boss";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createJobQueue, defineJob, type JobQueue, type JobSettled } from "./jobs.ts";

beforeAll(prepareTestDatabases);

const greet = defineJob({
  name: "test.greet",
  payload: z.object({ to: z.string() }),
  retry: { limit: 2, delaySeconds: 60 },
  timeoutSeconds: 30,
});
const tidy = defineJob({ name: "test.tidy", payload: z.object({}), cron: "*/5 * * * *" });
const types = [greet, tidy];

/** Resolves with the next `count` runs this queue settles. */
function settledRuns(queue: JobQueue, count: number) {
  const runs: JobSettled[] = [];
  return new Promise<JobSettled[]>((resolve) => {
    const stop = queue.onSettled((event) => {
      runs.push(event);
      if (runs.length === count) {
        stop();
        resolve(runs);
      }
    });
  });
}

async function jobOf(queue: JobQueue, id: string) {
  const [job] = await queue.boss.findJobs(greet.name, { id });
  if (!job) throw new Error(`job ${id} not found`);
  return job;
}

describe.each(testBackends)("job queue (%s)", (backend: Backend) => {
  it("runs each job once when two processes work the same queue", async () => {
    await using db = await openTestDatabase(backend);
    const first = await createJobQueue({ location: db.location, types });
    const second = await createJobQueue({ location: db.location, types });
    try {
      const seen: string[] = [];
      const worker = greet.worker(
        async ({ to }) => {
          seen.push(to);
        },
        { pollingIntervalSeconds: 0.5 },
      );
      const all = new Promise<void>((resolve) => {
        const check = () => seen.length === 20 && resolve();
        first.onSettled(check);
        second.onSettled(check);
      });
      for (let n = 0; n < 20; n++) await first.enqueue(greet, { to: `user-${n}` });
      await first.work([worker]);
      await second.work([worker]);
      await all;
      expect([...seen].sort()).toEqual(Array.from({ length: 20 }, (_, n) => `user-${n}`).sort());
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it("stores a job with the caller's transaction, and none when it rolls back", async () => {
    await using db = await openTestDatabase(backend);
    const queue = await createJobQueue({ location: db.location, types });
    try {
      await expect(
        db.prisma.$transaction(async (tx) => {
          await queue.enqueue(greet, { to: "rolled back" }, { tx });
          throw new Error("the domain change failed");
        }),
      ).rejects.toThrow("the domain change failed");
      const id = await db.prisma.$transaction(async (tx) => queue.enqueue(greet, { to: "committed" }, { tx }));
      const jobs = await queue.boss.findJobs<{ to: string }>(greet.name);
      expect(jobs.map((job) => job.data.to)).toEqual(["committed"]);
      expect(jobs[0]?.id).toBe(id);
    } finally {
      await queue.stop();
    }
  });

  it("refuses a payload that does not match the job's schema, and a type not registered", async () => {
    await using db = await openTestDatabase(backend);
    const queue = await createJobQueue({ location: db.location, types });
    try {
      // @ts-expect-error the payload's type is checked at compile time too
      await expect(queue.enqueue(greet, { to: 42 })).rejects.toThrow();
      const stranger = defineJob({ name: "test.stranger", payload: z.object({}) });
      await expect(queue.enqueue(stranger, {})).rejects.toThrow(/not registered/);
    } finally {
      await queue.stop();
    }
  });

  it("keeps completed jobs of a type only as long as it asks, also on a queue made before", async () => {
    await using db = await openTestDatabase(backend);
    const before = await createJobQueue({ location: db.location, types });
    expect((await before.boss.getQueue(greet.name))?.deleteAfterSeconds).toBe(7 * 86_400);
    await before.stop();

    const shortLived = defineJob({ name: greet.name, payload: greet.payload, keepCompletedSeconds: 60 });
    const queue = await createJobQueue({ location: db.location, types: [shortLived] });
    try {
      expect((await queue.boss.getQueue(greet.name))?.deleteAfterSeconds).toBe(60);
      const id = await queue.enqueue(shortLived, { to: "huda" });
      const [job] = await queue.boss.findJobs(greet.name, { id: id ?? "" });
      expect(job?.deleteAfterSeconds).toBe(60);
    } finally {
      await queue.stop();
    }
  });

  it("deletes a short-lived type's completed jobs once their keep time has passed, and only theirs", async () => {
    await using db = await openTestDatabase(backend);
    const clock = new TestClock(new Date("2026-06-01T00:00:00Z"));
    const shortLived = defineJob({ name: greet.name, payload: greet.payload, keepCompletedSeconds: 60 });
    const queue = await createJobQueue({ location: db.location, types: [shortLived, tidy], clock });
    try {
      const runs = settledRuns(queue, 2);
      await queue.work([shortLived.worker(async () => {}), tidy.worker(async () => {})]);
      const shortId = (await queue.enqueue(shortLived, { to: "nour" })) ?? "";
      const keptId = (await queue.enqueue(tidy, {})) ?? "";
      await clock.tick(2_000);
      expect((await runs).map((run) => run.outcome)).toEqual(["completed", "completed"]);
      const completed = async (name: string, id: string) => (await queue.boss.findJobs(name, { id }))[0]?.state;
      while (
        (await completed(greet.name, shortId)) !== "completed" ||
        (await completed(tidy.name, keptId)) !== "completed"
      ) {
        await clock.tick(0);
      }

      await clock.setTime(clock.now() + 61_000);
      await queue.boss.supervise();
      expect(await queue.boss.findJobs(greet.name, { id: shortId })).toHaveLength(0);
      expect(await queue.boss.findJobs(tidy.name, { id: keptId })).toHaveLength(1);
    } finally {
      await queue.stop();
    }
  });

  it("retries a failing job with growing delays, then moves it to the dead letters", async () => {
    await using db = await openTestDatabase(backend);
    const clock = new TestClock(new Date("2026-06-01T00:00:00Z"));
    const queue = await createJobQueue({ location: db.location, types, clock });
    try {
      let runs = 0;
      await queue.work([
        greet.worker(async () => {
          runs++;
          throw new Error("the receiver is down");
        }),
      ]);
      const id = await queue.enqueue(greet, { to: "sara" });
      if (!id) throw new Error("not enqueued");

      const delays: number[] = [];
      for (const expected of ["retry", "retry", "dead"] as const) {
        const run = settledRuns(queue, 1);
        await clock.setTime(clock.now() + (delays.length === 0 ? 0 : 3_600_000));
        await clock.tick(2_000);
        const [settled] = await run;
        expect(settled?.outcome).toBe(expected);
        if (expected === "retry") {
          // Wait for pg-boss to record the failure before reading it.
          await clock.tick(0);
          let job = await jobOf(queue, id);
          while (job.state !== "retry") {
            await clock.tick(0);
            job = await jobOf(queue, id);
          }
          delays.push(job.startAfter.getTime() - clock.now());
          // Not run again before its delay is over.
          await clock.tick(10_000);
          expect(runs).toBe(delays.length);
        }
      }
      expect(runs).toBe(3);
      expect(delays[0]).toBeGreaterThanOrEqual(20_000);
      expect(delays[1]).toBeGreaterThan(delays[0] ?? 0);
      let dead = await queue.deadLetters(greet);
      while (dead.length === 0) {
        await clock.tick(0);
        dead = await queue.deadLetters(greet);
      }
      expect(dead.map((job) => job.data)).toEqual([{ to: "sara" }]);
    } finally {
      await queue.stop();
    }
  });

  it("runs a job again when the process that claimed it died mid-run", async () => {
    await using db = await openTestDatabase(backend);
    const crashed = await createJobQueue({ location: db.location, types });
    await crashed.enqueue(greet, { to: "omar" });
    // Claimed and never finished: the process is gone.
    expect(await crashed.boss.fetch(greet.name)).toHaveLength(1);
    await crashed.stop();

    const clock = new TestClock(Date.now());
    const restarted = await createJobQueue({ location: db.location, types, clock });
    try {
      const greeted: string[] = [];
      const run = settledRuns(restarted, 1);
      await restarted.work([greet.worker(async ({ to }) => void greeted.push(to))]);
      // Past its 30-second timeout and the first retry delay, the job is handed out again.
      for (let minute = 0; minute < 10 && greeted.length === 0; minute++) await clock.tick(60_000);
      expect((await run)[0]?.outcome).toBe("completed");
      expect(greeted).toEqual(["omar"]);
    } finally {
      await restarted.stop();
    }
  });

  it("runs a cron job on its schedule", async () => {
    await using db = await openTestDatabase(backend);
    const clock = new TestClock(new Date("2026-06-01T00:01:00Z"));
    const queue = await createJobQueue({ location: db.location, types, clock });
    try {
      let runs = 0;
      await queue.work([tidy.worker(async () => void runs++)]);
      expect((await queue.boss.getSchedules(tidy.name)).map((schedule) => schedule.cron)).toEqual(["*/5 * * * *"]);
      const run = settledRuns(queue, 1);
      for (let second = 0; second < 600 && runs === 0; second += 5) await clock.tick(5_000);
      expect((await run)[0]?.outcome).toBe("completed");
      expect(runs).toBe(1);
    } finally {
      await queue.stop();
    }
  });
});

describe("defineJob", () => {
  it("refuses a keep time pg-boss would read as forever", () => {
    for (const keepCompletedSeconds of [0, -5, 1.5]) {
      expect(() => defineJob({ name: "test.bad", payload: z.object({}), keepCompletedSeconds })).toThrow(/at least 1/);
    }
  });
});
