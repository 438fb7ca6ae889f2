/**
 * `pnpm bench`: starts the server (and the baseline), drives both from a separate load
 * process with real WebSocket clients, prints a table and writes JSON and an SVG chart.
 * See --help and docs/performance.md.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { repoRoot, type ServerChild, startLoadChild, startServerChild } from "./children.ts";
import { summarizeProfiles } from "./profile.ts";
import type { CatchUpResult, ConnectResult, SteadyResult, Target, TargetKind } from "./protocol.ts";
import { chart, kb, mb, ms, table } from "./report.ts";
import type { Percentiles } from "./stats.ts";

const HELP = `Usage: pnpm bench [options]

Runs the scenarios against our server and, with PostgreSQL, against the plain ws+pg baseline.

Scenarios (--scenarios, comma-separated; default 1,2,3,4,5):
  1  latency at steady load: --users clients in users/2 conversations, --rate messages/s for --duration s
  2  throughput ceiling: the --steps rates in turn, until p99 > 100 ms or any error
  3  connections: --connections idle clients, each with a chat.onMessage subscription; memory per connection
  4  catch-up: a client reconnects with lastEventId after --backlog messages
  5  baseline: runs the selected scenarios 1-4 against bench/baseline too (PostgreSQL only) and prints ratios

Options:
  --users N           scenario 1 clients (default 1000)
  --rate N            scenario 1 offered messages/s (default 1000)
  --duration S        scenario 1 measured seconds (default 20)
  --warmup S          unmeasured seconds before each load step (default 3)
  --steps A,B,..      scenario 2 offered rates (default 1000,2000,3000,4000,5000,6000,7000,8000)
  --step-duration S   scenario 2 measured seconds per step (default 8)
  --connections N     scenario 3 idle connections (default 10000)
  --backlog N         scenario 4 missed messages (default 10000)
  --db pglite|postgres  store (default: postgres when DATABASE_URL is set, else pglite)
  --instances N       server processes sharing PostgreSQL, fanned out over Redis (REDIS_URL,
                      default redis://127.0.0.1:6379); partners connect to different instances
  --out DIR           where results go (default bench/results)
  --cpu-prof          profile our server (node --cpu-prof) and print where its time went
  --smoke             tiny sizes, a few seconds: checks that everything runs (for CI)
  --keep-db           keep the bench database / data directory afterwards
  -h, --help          this text

Each run uses a fresh PostgreSQL database (bench_<time>_<server>, dropped afterwards) or a fresh
PGlite data directory. The per-user send limit (burst 30, 10/s) caps the offered rate at 8/s per
client: scenario 2 connects max(--users, top step / 8) clients.
`;

const { values: args } = parseArgs({
  options: {
    scenarios: { type: "string", default: "1,2,3,4,5" },
    users: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    steps: { type: "string" },
    "step-duration": { type: "string" },
    connections: { type: "string" },
    backlog: { type: "string" },
    db: { type: "string" },
    instances: { type: "string", default: "1" },
    out: { type: "string", default: join(repoRoot, "bench/results") },
    "cpu-prof": { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    "keep-db": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const smoke = args.smoke;
const num = (value: string | undefined, full: number, small: number) => {
  const parsed = value === undefined ? (smoke ? small : full) : Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) fail(`Not a positive number: ${value}`);
  return parsed;
};
const options = {
  scenarios: new Set(args.scenarios.split(",").map((s) => s.trim())),
  users: Math.ceil(num(args.users, 1000, 20) / 2) * 2,
  rate: num(args.rate, 1000, 40),
  durationS: num(args.duration, 20, 2),
  warmupS: args.warmup === undefined ? (smoke ? 0.5 : 3) : Number(args.warmup),
  steps: (args.steps ?? (smoke ? "40,80" : "1000,2000,3000,4000,5000,6000,7000,8000")).split(",").map(Number),
  stepDurationS: num(args["step-duration"], 8, 1),
  connections: Math.ceil(num(args.connections, 10_000, 100) / 2) * 2,
  backlog: num(args.backlog, 10_000, 500),
  db: (args.db ?? (process.env["DATABASE_URL"] ? "postgres" : "pglite")) as "pglite" | "postgres",
  instances: num(args.instances, 1, 1),
  out: resolve(args.out),
  cpuProf: args["cpu-prof"],
  keepDb: args["keep-db"],
};
if (options.db !== "pglite" && options.db !== "postgres") fail("--db is pglite or postgres");
const databaseUrl = process.env["DATABASE_URL"];
if (options.db === "postgres" && !databaseUrl) fail("--db postgres needs DATABASE_URL");
if (options.instances > 1 && options.db !== "postgres") fail("--instances > 1 needs PostgreSQL (DATABASE_URL)");
if (options.steps.some((rate) => !(rate > 0))) fail("--steps are positive rates");

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
const secret = randomBytes(32).toString("base64url");
const interactive = process.stderr.isTTY;
let progressShown = false;
function progress(text: string) {
  if (interactive) {
    process.stderr.write(`\r\x1b[2K  ${text}`);
    progressShown = true;
  } else process.stderr.write(`  ${text}\n`);
}
function say(text: string) {
  if (progressShown) process.stderr.write("\r\x1b[2K");
  progressShown = false;
  process.stderr.write(`${text}\n`);
}

// ---- per-server resources ----

async function withDatabase<T>(kind: TargetKind, use: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    JWT_SECRET: secret,
    LOG_LEVEL: "warn",
    DEMO: "false",
  };
  if (options.db === "pglite") {
    const dataDir = mkdtempSync(join(tmpdir(), "naafe-bench-"));
    try {
      return await use({ ...base, DATABASE_URL: "", DATA_DIR: dataDir });
    } finally {
      if (!options.keepDb) rmSync(dataDir, { recursive: true, force: true });
      else say(`  kept data directory ${dataDir}`);
    }
  }
  const name = `bench_${stamp.replace("-", "_")}_${kind}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(databaseUrl ?? "");
  url.pathname = `/${name}`;
  try {
    return await use({ ...base, DATABASE_URL: url.toString(), DATA_DIR: join(tmpdir(), "naafe-bench-unused") });
  } finally {
    if (!options.keepDb) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    else say(`  kept database ${name}`);
    await admin.end();
  }
}

async function startServers(kind: TargetKind, env: NodeJS.ProcessEnv, profileDir: string | undefined) {
  const servers: ServerChild[] = [];
  const redis = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  for (let i = 0; i < options.instances; i++) {
    const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    servers.push(await startServerChild(kind, options.instances > 1 ? { ...env, REDIS_URL: redis } : env, nodeArgs));
  }
  return servers;
}

// ---- scenarios ----

interface TargetReport {
  kind: TargetKind;
  store: string;
  s1?: SteadyResult & { users: number; connect: ConnectResult };
  s2?: { users: number; steps: SteadyResult[]; ceiling: number; stoppedBy: string };
  s3?: {
    connect: ConnectResult;
    rssBefore: number;
    rssAfter: number;
    heapBefore: number;
    heapAfter: number;
    rssPerConnection: number;
    heapPerConnection: number;
    probe: { latency: Percentiles; failures: number };
  };
  s4?: CatchUpResult & { rssBefore: number; rssPeak: number; heapBefore: number; heapPeak: number };
}

const passes = (step: SteadyResult) =>
  step.latency.p99 <= 100 && step.errors.send + step.errors.lost + step.errors.connection === 0;

async function runTarget(kind: TargetKind): Promise<TargetReport> {
  const profileDir = options.cpuProf && kind === "naafe" ? join(options.out, `${stamp}-profile`) : undefined;
  return withDatabase(kind, async (env) => {
    const servers = await startServers(kind, env, profileDir);
    const [first] = servers;
    if (!first) throw new Error("no server");
    const target: Target = { kind, urls: servers.map((server) => server.url), secret };
    const load = startLoadChild(progress);
    const report: TargetReport = { kind, store: first.store };
    const s = options.scenarios;
    try {
      say(`\n${kind}: ${servers.length} × ${first.url} (${first.store}), load process pid ${load.pid}`);
      const s2Users = Math.max(options.users, Math.ceil(Math.max(...options.steps) / 8 / 2) * 2);
      const needed = Math.max(s.has("1") ? options.users : 0, s.has("2") ? s2Users : 0);
      if (needed > 0) {
        await first.request({ op: "seedPairs", prefix: "load", pairs: needed / 2 });
        let connected = 0;
        const connectUsers = async (users: number) => {
          if (users === connected) return;
          await load.request({ op: "closeAll" });
          const result = await load.request<ConnectResult>({
            op: "connect",
            target,
            prefix: "load",
            users,
            concurrency: 50,
          });
          if (result.failed > 0)
            throw new Error(`${result.failed} of ${users} clients failed to connect: ${result.sample}`);
          connected = users;
          return result;
        };
        if (s.has("1")) {
          const connect = await connectUsers(options.users);
          say(
            `[1] ${options.users} users connected in ${connect?.seconds.toFixed(1)} s; ${options.rate} msg/s for ${options.durationS} s`,
          );
          const result = await load.request<SteadyResult>({
            op: "steady",
            rate: options.rate,
            durationMs: options.durationS * 1000,
            warmupMs: options.warmupS * 1000,
            label: "s1",
          });
          if (connect) report.s1 = { ...result, users: options.users, connect };
          say(`[1] ${describeStep(result)}`);
        }
        if (s.has("2")) {
          await connectUsers(s2Users);
          const steps: SteadyResult[] = [];
          let stoppedBy = `all steps passed (top step ${Math.max(...options.steps)} msg/s)`;
          for (const [index, rate] of options.steps.entries()) {
            const step = await load.request<SteadyResult>({
              op: "steady",
              rate,
              durationMs: options.stepDurationS * 1000,
              warmupMs: options.warmupS * 1000,
              label: `s2.${index}`,
            });
            steps.push(step);
            say(`[2] ${describeStep(step)}`);
            if (!passes(step)) {
              stoppedBy = `${rate} msg/s: ${step.latency.p99 > 100 ? `p99 ${ms(step.latency.p99)} ms` : `errors ${JSON.stringify(step.errors)}`}`;
              break;
            }
            // Let queues empty so one step's backlog does not spill into the next.
            await new Promise((r) => setTimeout(r, 1000));
          }
          const ceiling = Math.max(0, ...steps.filter(passes).map((step) => step.deliveredPerS));
          report.s2 = { users: s2Users, steps, ceiling, stoppedBy };
          say(`[2] ceiling ${ceiling.toFixed(0)} delivered msg/s (stopped by ${stoppedBy})`);
        }
        await load.request({ op: "closeAll" });
      }
      if (s.has("3")) report.s3 = await connections(servers, load, target);
      if (s.has("4")) report.s4 = await catchUp(servers, load, target);
    } finally {
      await load.exit();
      await Promise.all(servers.map((server) => server.stop()));
    }
    return report;
  });
}

type Load = ReturnType<typeof startLoadChild>;

async function totalMemory(servers: ServerChild[]) {
  const readings = await Promise.all(servers.map((server) => server.memory(true)));
  // /proc is read after the GC so RSS reflects it.
  const rss = servers.reduce((sum, server) => sum + server.rss(), 0);
  return { rss, heap: readings.reduce((sum, reading) => sum + reading.heapUsed, 0) };
}

async function connections(servers: ServerChild[], load: Load, target: Target): Promise<TargetReport["s3"]> {
  const [first] = servers;
  if (!first) throw new Error("no server");
  await first.request({ op: "seedPairs", prefix: "idle", pairs: options.connections / 2 });
  const before = await totalMemory(servers);
  say(`[3] opening ${options.connections} connections (server RSS before: ${mb(before.rss)})`);
  const connect = await load.request<ConnectResult>({
    op: "connect",
    target,
    prefix: "idle",
    users: options.connections,
    concurrency: 100,
  });
  await new Promise((r) => setTimeout(r, 1000));
  const after = await totalMemory(servers);
  const probe = await load.request<{ latency: Percentiles; failures: number }>({ op: "probe", count: 50 });
  await load.request({ op: "closeAll" });
  const result = {
    connect,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heap,
    heapAfter: after.heap,
    rssPerConnection: (after.rss - before.rss) / Math.max(1, connect.opened),
    heapPerConnection: (after.heap - before.heap) / Math.max(1, connect.opened),
    probe,
  };
  say(
    `[3] ${connect.opened} open (${connect.failed} failed) at ${connect.perSecond.toFixed(0)}/s; ` +
      `${kb(result.rssPerConnection)} RSS, ${kb(result.heapPerConnection)} heap per connection; ` +
      `probe p50 ${ms(probe.latency.p50)} ms, max ${ms(probe.latency.max)} ms, ${probe.failures} failed`,
  );
  return result;
}

async function catchUp(servers: ServerChild[], load: Load, target: Target): Promise<TargetReport["s4"]> {
  const [first] = servers;
  if (!first) throw new Error("no server");
  await first.request({ op: "seedPairs", prefix: "away", pairs: 1 });
  const lastEventId = await first.request<string>({ op: "seedBacklog", prefix: "away", count: options.backlog });
  const before = await first.memory(true);
  const rssBefore = first.rss();
  let rssPeak = rssBefore;
  let heapPeak = before.heapUsed;
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, first.rss());
  }, 10);
  const heapTimer = setInterval(() => {
    first.memory(false).then(
      (reading) => {
        heapPeak = Math.max(heapPeak, reading.heapUsed);
      },
      () => {},
    );
  }, 50);
  say(`[4] catching up ${options.backlog} messages`);
  try {
    const result = await load.request<CatchUpResult>({
      op: "catchUp",
      target,
      prefix: "away",
      lastEventId,
      expected: options.backlog,
    });
    const report = { ...result, rssBefore, rssPeak, heapBefore: before.heapUsed, heapPeak };
    say(
      `[4] ${result.received}/${result.expected} in ${ms(result.totalMs)} ms (first after ${ms(result.firstMs)} ms, ` +
        `${result.inOrder ? "in order" : "OUT OF ORDER"}); server RSS ${mb(rssBefore)} → peak ${mb(rssPeak)}, ` +
        `heap +${mb(heapPeak - before.heapUsed)}`,
    );
    return report;
  } finally {
    clearInterval(rssTimer);
    clearInterval(heapTimer);
  }
}

function describeStep(step: SteadyResult) {
  const l = step.latency;
  const errors = step.errors.send + step.errors.lost + step.errors.connection;
  return (
    `${step.offeredRate} msg/s offered → ${step.deliveredPerS.toFixed(0)} delivered/s; ` +
    `p50 ${ms(l.p50)} p95 ${ms(l.p95)} p99 ${ms(l.p99)} p99.9 ${ms(l.p999)} max ${ms(l.max)} ms; ` +
    `${errors} errors${errors ? ` (${step.errors.sample})` : ""}; load cpu ${step.loadCpuPct.toFixed(0)}%`
  );
}

// ---- main ----

const wantBaseline = options.scenarios.has("5");
const baselineRuns = wantBaseline && options.db === "postgres";
say(
  `Naafe Chat benchmark ${stamp}${smoke ? " (smoke sizes)" : ""}: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
    `node ${process.version}, ${options.db}, ${options.instances} instance(s)`,
);
if (wantBaseline && !baselineRuns) say("Scenario 5 (baseline) skipped: it needs PostgreSQL (set DATABASE_URL).");

const reports: TargetReport[] = [await runTarget("naafe")];
if (baselineRuns) reports.push(await runTarget("baseline"));
const [ours, baseline] = reports as [TargetReport, TargetReport | undefined];

// ---- report ----

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? Number((a / b).toFixed(2)) : null;
const ratios = baseline
  ? {
      s1P50: ratio(ours.s1?.latency.p50, baseline.s1?.latency.p50),
      s1P99: ratio(ours.s1?.latency.p99, baseline.s1?.latency.p99),
      s2Ceiling: ratio(ours.s2?.ceiling, baseline.s2?.ceiling),
      s3RssPerConnection: ratio(ours.s3?.rssPerConnection, baseline.s3?.rssPerConnection),
      s3ConnectRate: ratio(ours.s3?.connect.perSecond, baseline.s3?.connect.perSecond),
      s4CatchUpTime: ratio(ours.s4?.totalMs, baseline.s4?.totalMs),
    }
  : null;

const targets = [
  ours.s1 && {
    target: `s1 p99 ≤ 25 ms, 0 errors (${ours.s1.users} users, ${ours.s1.offeredRate} msg/s)`,
    value: `p99 ${ms(ours.s1.latency.p99)} ms, ${ours.s1.errors.send + ours.s1.errors.lost + ours.s1.errors.connection} errors`,
    pass: ours.s1.latency.p99 <= 25 && passes(ours.s1),
  },
  ours.s2 && {
    target: "s2 ceiling ≥ 3000 msg/s",
    value: `${ours.s2.ceiling.toFixed(0)} msg/s`,
    pass: ours.s2.ceiling >= 3000,
  },
  ours.s2 &&
    ratios?.s2Ceiling != null && {
      target: "s2 ceiling ≥ 0.6 × baseline",
      value: `${ratios.s2Ceiling} ×`,
      pass: ratios.s2Ceiling >= 0.6,
    },
  ours.s3 && {
    target: `s3 ${options.connections} connections held, ≤ 40 KB each, message < 50 ms`,
    value: `${ours.s3.connect.opened} held, ${kb(ours.s3.rssPerConnection)} RSS, probe max ${ms(ours.s3.probe.latency.max)} ms`,
    pass:
      ours.s3.connect.opened === options.connections &&
      ours.s3.rssPerConnection <= 40 * 1024 &&
      ours.s3.probe.latency.max < 50 &&
      ours.s3.probe.failures === 0,
  },
  ours.s4 && {
    target: `s4 ${options.backlog} missed messages in ≤ 2 s, memory bounded`,
    value: `${ms(ours.s4.totalMs)} ms, RSS +${mb(ours.s4.rssPeak - ours.s4.rssBefore)}`,
    pass: ours.s4.received === ours.s4.expected && ours.s4.inOrder && ours.s4.totalMs <= 2000,
  },
].filter(<T>(item: T | undefined | false | null): item is T => Boolean(item));

const column = (pick: (report: TargetReport) => string | undefined) => reports.map((report) => pick(report) ?? "-");
const rows: string[][] = [];
const add = (label: string, pick: (report: TargetReport) => string | undefined, r?: number | null) =>
  rows.push([label, ...column(pick), ...(baseline ? [r == null ? "-" : `${r} ×`] : [])]);
add("s1 p50 (ms)", (r) => r.s1 && ms(r.s1.latency.p50), ratios?.s1P50);
add("s1 p95 (ms)", (r) => r.s1 && ms(r.s1.latency.p95));
add("s1 p99 (ms)", (r) => r.s1 && ms(r.s1.latency.p99), ratios?.s1P99);
add("s1 p99.9 (ms)", (r) => r.s1 && ms(r.s1.latency.p999));
add("s1 max (ms)", (r) => r.s1 && ms(r.s1.latency.max));
add("s1 delivered/s", (r) => r.s1?.deliveredPerS.toFixed(0));
add("s1 errors", (r) => r.s1 && String(r.s1.errors.send + r.s1.errors.lost + r.s1.errors.connection));
add("s1 ack p99 (ms)", (r) => r.s1 && ms(r.s1.ack.p99));
add("s2 ceiling (msg/s)", (r) => r.s2?.ceiling.toFixed(0), ratios?.s2Ceiling);
add("s3 connections", (r) => r.s3 && `${r.s3.connect.opened}/${options.connections}`);
add("s3 connect rate (/s)", (r) => r.s3?.connect.perSecond.toFixed(0), ratios?.s3ConnectRate);
add("s3 RSS/connection", (r) => r.s3 && kb(r.s3.rssPerConnection), ratios?.s3RssPerConnection);
add("s3 heap/connection", (r) => r.s3 && kb(r.s3.heapPerConnection));
add("s3 probe max (ms)", (r) => r.s3 && ms(r.s3.probe.latency.max));
add("s4 catch-up (ms)", (r) => r.s4 && ms(r.s4.totalMs), ratios?.s4CatchUpTime);
add("s4 RSS peak - before", (r) => r.s4 && mb(r.s4.rssPeak - r.s4.rssBefore));
add("s4 heap peak - before", (r) => r.s4 && mb(r.s4.heapPeak - r.s4.heapBefore));

say("");
console.log(table(["", ...reports.map((r) => r.kind), ...(baseline ? ["ours / baseline"] : [])], rows));
if (ours.s2) {
  console.log("");
  const stepRows = reports.flatMap((report) =>
    (report.s2?.steps ?? []).map((step) => [
      report.kind,
      String(step.offeredRate),
      step.deliveredPerS.toFixed(0),
      ms(step.latency.p50),
      ms(step.latency.p95),
      ms(step.latency.p99),
      ms(step.latency.p999),
      ms(step.latency.max),
      String(step.errors.send + step.errors.lost + step.errors.connection),
      `${step.loadCpuPct.toFixed(0)}%`,
    ]),
  );
  console.log(
    table(["s2", "offered", "delivered/s", "p50", "p95", "p99", "p99.9", "max", "errors", "load cpu"], stepRows),
  );
}
if (targets.length) {
  console.log(`\nTargets${smoke ? " (smoke sizes: not meaningful)" : ""}:`);
  for (const item of targets) console.log(`  ${item.pass ? "PASS" : "MISS"}  ${item.target}: ${item.value}`);
}

mkdirSync(options.out, { recursive: true });
const json = {
  stamp,
  smoke,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  options: { ...options, scenarios: [...options.scenarios] },
  reports,
  ratios,
  targets,
};
const jsonFile = join(options.out, `${stamp}.json`);
const svgFile = join(options.out, `${stamp}.svg`);
writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(
  svgFile,
  chart(
    reports
      .filter((report) => report.s2)
      .map((report) => ({
        name: report.kind === "naafe" ? "Naafe (tRPC + Prisma)" : "baseline (ws + pg)",
        dashed: report.kind === "baseline",
        steps: report.s2?.steps ?? [],
      })),
    `Send → receive latency vs offered load (${options.db}, ${cpus().length} cores)`,
  ),
);
writeFileSync(join(options.out, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
console.log(`\nWrote ${relative(process.cwd(), jsonFile)} and ${relative(process.cwd(), svgFile)}`);
if (options.cpuProf) console.log(`\n${summarizeProfiles(join(options.out, `${stamp}-profile`))}`);
