/**
 * `pnpm bench`: starts the server (and the baseline), drives both from a separate load
 * process with real WebSocket clients, prints a table and writes JSON and an SVG chart.
 * See --help and docs/performance.md.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
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
Both servers are up side by side and take turns (step by step, round by round), so a change in
the machine's load hits both alike; each is driven by its own load process.

Scenarios (--scenarios, comma-separated; default 1,2,3,4,5):
  1  latency at steady load: --users clients in users/2 conversations, --rate messages/s for --duration s
  2  throughput ceiling: the --steps rates in turn, until a step fails twice (p99 > 100 ms or any error)
  3  connections: --connections idle clients, each with a chat.onMessage subscription; memory per connection
  4  catch-up: a client reconnects with lastEventId after --backlog messages
  5  baseline: runs the selected scenarios 1-4 against bench/baseline too (PostgreSQL only) and prints ratios

Options:
  --users N           scenario 1 clients (default 1000)
  --rate N            scenario 1 offered messages/s (default 1000)
  --duration S        scenario 1 measured seconds (default 20)
  --warmup S          unmeasured seconds before each load step (default 3)
  --repeat N          rounds of scenarios 1 and 4, reported by their median (default 3); scenario 1
                      first runs one more round per server that is shown but not counted (warm-up)
  --steps A,B,..      scenario 2 offered rates (default 1000,2000,3000,4000,5000,6000,7000,8000)
  --step-duration S   scenario 2 measured seconds per step (default 8)
  --connections N     scenario 3 idle connections (default 10000)
  --backlog N         scenario 4 missed messages (default 10000)
  --db pglite|postgres  store (default: postgres when DATABASE_URL is set, else pglite)
  --instances N       server processes sharing PostgreSQL, fanned out over Redis (REDIS_URL,
                      default redis://127.0.0.1:6379); partners connect to different instances;
                      the baseline stays one process
  --out DIR           where results go (default bench/results)
  --cpu-prof          profile the servers (node --cpu-prof) and print where their time went
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
    repeat: { type: "string" },
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
  repeat: num(args.repeat, 3, 1),
  steps: (args.steps ?? (smoke ? "40,80" : "1000,2000,3000,4000,5000,6000,7000,8000")).split(",").map(Number),
  stepDurationS: num(args["step-duration"], 8, 1),
  connections: Math.ceil(num(args.connections, 10_000, 40) / 2) * 2,
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

type Load = ReturnType<typeof startLoadChild>;

/** One server under test: its database, its instance(s), its own load process, its report. */
interface Side {
  kind: TargetKind;
  servers: ServerChild[];
  first: ServerChild;
  load: Load;
  target: Target;
  report: TargetReport;
  connected: number;
  close(): Promise<void>;
}

interface TargetReport {
  kind: TargetKind;
  store: string;
  /** The scenario 1 round with the median p99, and every round. */
  s1?: SteadyResult & { users: number };
  s1Rounds?: SteadyResult[];
  /** The unmeasured first round of scenario 1 (see `steadyLoad`). */
  s1WarmUp?: SteadyResult;
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
  s4?: CatchUp;
  s4Rounds?: CatchUp[];
}

type CatchUp = CatchUpResult & { rssBefore: number; rssPeak: number; heapBefore: number; heapPeak: number };

async function openSide(kind: TargetKind): Promise<Side> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    JWT_SECRET: secret,
    // Refused and failed procedures are logged at warn/error: the log file shows why errors were counted.
    LOG_LEVEL: "warn",
    DEMO: "false",
    // Every simulated user connects from this one address, and thousands at once.
    MAX_CONNECTIONS_PER_ADDRESS: "1000000",
    MAX_UNAUTHENTICATED_CONNECTIONS: "1000000",
  };
  let dispose: () => Promise<void>;
  if (options.db === "pglite") {
    const dataDir = mkdtempSync(join(tmpdir(), "naafe-bench-"));
    env["DATABASE_URL"] = "";
    env["DATA_DIR"] = dataDir;
    dispose = async () => {
      if (options.keepDb) say(`  kept data directory ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    };
  } else {
    const name = `bench_${stamp.replace("-", "_")}_${kind}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(databaseUrl ?? "");
    url.pathname = `/${name}`;
    env["DATABASE_URL"] = url.toString();
    env["DATA_DIR"] = join(tmpdir(), "naafe-bench-unused");
    dispose = async () => {
      if (options.keepDb) say(`  kept database ${name}`);
      else await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    };
  }
  const profileDir = options.cpuProf ? join(options.out, `${stamp}-${kind}-profile`) : undefined;
  let servers: ServerChild[];
  try {
    servers = await startServers(kind, env, profileDir);
  } catch (error) {
    await dispose();
    throw error;
  }
  const [first] = servers as [ServerChild];
  const load = startLoadChild((text) => progress(`${kind}: ${text}`));
  say(
    `${kind}: ${servers.length} × ${first.url} (${first.store}), log ${relative(process.cwd(), join(options.out, `${stamp}-${kind}-0.log`))}`,
  );
  return {
    kind,
    servers,
    first,
    load,
    target: { kind, urls: servers.map((server) => server.url), secret },
    report: { kind, store: first.store },
    connected: 0,
    async close() {
      await load.exit();
      await Promise.all(servers.map((server) => server.stop()));
      await dispose();
    },
  };
}

async function startServers(kind: TargetKind, env: NodeJS.ProcessEnv, profileDir: string | undefined) {
  const servers: ServerChild[] = [];
  mkdirSync(options.out, { recursive: true });
  const redis = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  // The baseline keeps its rooms in memory and has no fan-out between processes: partners on
  // two of its instances would never hear each other. It stays one process, the reference.
  const instances = kind === "baseline" ? 1 : options.instances;
  for (let i = 0; i < instances; i++) {
    const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    const serverEnv = instances > 1 ? { ...env, REDIS_URL: redis } : env;
    const logFile = join(options.out, `${stamp}-${kind}-${i}.log`);
    servers.push(await startServerChild(kind, serverEnv, nodeArgs, logFile));
  }
  return servers;
}

// ---- scenarios ----

const errorsOf = (step: SteadyResult) => step.errors.send + step.errors.lost + step.errors.connection;
const passes = (step: SteadyResult) => step.latency.p99 <= 100 && errorsOf(step) === 0;
const median = <T>(items: T[], by: (item: T) => number): T | undefined =>
  [...items].sort((a, b) => by(a) - by(b))[Math.floor((items.length - 1) / 2)];
/** Sides in turn, the order swapped every round, so a drift in machine load hits both alike. */
const inTurn = (sides: Side[], round: number) => (round % 2 === 0 ? sides : [...sides].reverse());

async function connectUsers(side: Side, users: number) {
  if (side.connected === users) return;
  await side.load.request({ op: "closeAll" });
  const result = await side.load.request<ConnectResult>({
    op: "connect",
    target: side.target,
    prefix: "load",
    users,
    concurrency: 50,
  });
  if (result.failed > 0) throw new Error(`${result.failed} of ${users} clients failed to connect: ${result.sample}`);
  side.connected = users;
  say(`    ${side.kind}: ${users} users connected in ${result.seconds.toFixed(1)} s`);
}

/** One load step, with the server's CPU time around it: CPU per message holds up on a busy machine. */
async function steady(side: Side, rate: number, durationS: number, label: string) {
  const cpu = () => side.servers.reduce((sum, server) => sum + server.cpuMs(), 0);
  const readings = () => Promise.all(side.servers.map((server) => server.memory(false)));
  const queriesBefore = (await readings()).reduce((sum, reading) => sum + reading.queries, 0);
  const cpuBefore = cpu();
  const started = performance.now();
  const result = await side.load.request<SteadyResult>({
    op: "steady",
    rate,
    durationMs: durationS * 1000,
    warmupMs: options.warmupS * 1000,
    label,
  });
  const used = cpu() - cpuBefore;
  const after = await readings();
  result.serverLoopBusy = Math.max(...after.map((reading) => reading.eventLoopUtilization));
  const queries = after.reduce((sum, reading) => sum + reading.queries, 0) - queriesBefore;
  if (options.db === "postgres") result.dbStatementsPerMessage = queries / Math.max(1, result.sentTotal);
  result.serverCpuMsPerMessage = used / Math.max(1, result.sentTotal);
  result.serverCpuPct = (used / (performance.now() - started)) * 100;
  return result;
}

async function steadyLoad(sides: Side[]) {
  say(
    `[1] latency at steady load: ${options.users} users, ${options.rate} msg/s, ${options.repeat} × ${options.durationS} s`,
  );
  // A server just started is still growing its heap and compiling its hot paths: its first round
  // ran at 0.57-0.61 ms of CPU per message against 0.46-0.53 after. The target is about steady
  // load, so each side first runs one round that is reported but not counted.
  for (const side of sides) {
    await connectUsers(side, options.users);
    const result = await steady(side, options.rate, options.durationS, "s1.warm");
    side.report.s1WarmUp = result;
    say(`    ${side.kind} warm-up round (not counted): ${describeStep(result)}`);
  }
  for (let round = 0; round < options.repeat; round++) {
    for (const side of inTurn(sides, round)) {
      await connectUsers(side, options.users);
      const result = await steady(side, options.rate, options.durationS, `s1.${round}`);
      side.report.s1Rounds = [...(side.report.s1Rounds ?? []), result];
      say(`    ${side.kind} round ${round + 1}: ${describeStep(result)}`);
    }
  }
  for (const side of sides) {
    const rounds = side.report.s1Rounds ?? [];
    // A round with errors, the warm-up included, is never hidden behind a clean median.
    const chosen =
      [side.report.s1WarmUp, ...rounds].find((round) => round && errorsOf(round) > 0) ??
      median(rounds, (round) => round.latency.p99);
    if (chosen) side.report.s1 = { ...chosen, users: options.users };
  }
}

async function ceiling(sides: Side[], users: number) {
  say(
    `[2] throughput ceiling: ${users} users, steps ${options.steps.join(", ")} msg/s, ${options.stepDurationS} s each`,
  );
  const state = new Map(sides.map((side) => [side, { steps: [] as SteadyResult[], stoppedBy: "" }]));
  for (const side of sides) await connectUsers(side, users);
  for (const [index, rate] of options.steps.entries()) {
    for (const side of inTurn(sides, index)) {
      const own = state.get(side);
      if (!own || own.stoppedBy) continue;
      let step = await steady(side, rate, options.stepDurationS, `s2.${index}`);
      say(`    ${side.kind}: ${describeStep(step)}`);
      if (!passes(step)) {
        // One hiccup of a shared machine must not end the search: a step fails only twice in a row.
        await new Promise((r) => setTimeout(r, 1000));
        step = await steady(side, rate, options.stepDurationS, `s2.${index}.retry`);
        say(`    ${side.kind} (again): ${describeStep(step)}`);
      }
      own.steps.push(step);
      if (!passes(step)) {
        own.stoppedBy = `${rate} msg/s: ${errorsOf(step) ? `${errorsOf(step)} errors (${step.errors.sample})` : `p99 ${ms(step.latency.p99)} ms`}`;
      }
      // Let queues empty so one step's backlog does not spill into the next.
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  for (const side of sides) {
    const own = state.get(side);
    if (!own) continue;
    const top = Math.max(0, ...own.steps.filter(passes).map((step) => step.deliveredPerS));
    side.report.s2 = {
      users,
      steps: own.steps,
      ceiling: top,
      stoppedBy:
        own.stoppedBy || `nothing: every step passed, the ceiling is above ${Math.max(...options.steps)} msg/s`,
    };
    say(`    ${side.kind}: ceiling ${top.toFixed(0)} delivered msg/s (stopped by ${side.report.s2.stoppedBy})`);
  }
}

async function totalMemory(servers: ServerChild[]) {
  const readings = await Promise.all(servers.map((server) => server.memory(true)));
  // /proc is read after the GC so RSS reflects it.
  const rss = servers.reduce((sum, server) => sum + server.rss(), 0);
  return { rss, heap: readings.reduce((sum, reading) => sum + reading.heapUsed, 0) };
}

async function connections(side: Side) {
  await side.first.request({ op: "seedPairs", prefix: "idle", pairs: options.connections / 2 });
  const before = await totalMemory(side.servers);
  const connect = await side.load.request<ConnectResult>({
    op: "connect",
    target: side.target,
    prefix: "idle",
    users: options.connections,
    concurrency: 100,
  });
  side.connected = -1;
  await new Promise((r) => setTimeout(r, 1000));
  // Probe before reading memory: the reading forces full GCs (0.6 s each at this size), after
  // which the first message ran 40 ms slower, paying for the GC the benchmark itself caused.
  const probe = await side.load.request<NonNullable<TargetReport["s3"]>["probe"]>({ op: "probe", count: 50 });
  const after = await totalMemory(side.servers);
  await side.load.request({ op: "closeAll" });
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
  side.report.s3 = result;
  say(
    `    ${side.kind}: ${connect.opened} open (${connect.failed} failed) at ${connect.perSecond.toFixed(0)}/s; ` +
      `RSS ${mb(before.rss)} → ${mb(after.rss)}: ${kb(result.rssPerConnection)} RSS, ${kb(result.heapPerConnection)} heap per connection; ` +
      `probe p50 ${ms(probe.latency.p50)} ms, max ${ms(probe.latency.max)} ms, ${probe.failures} failed`,
  );
}

async function catchUp(side: Side, round: number): Promise<CatchUp> {
  const { first } = side;
  const prefix = `away${round}`;
  await first.request({ op: "seedPairs", prefix, pairs: 1 });
  const lastEventId = await first.request<string>({ op: "seedBacklog", prefix, count: options.backlog });
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
  try {
    const result = await side.load.request<CatchUpResult>({
      op: "catchUp",
      target: side.target,
      prefix,
      lastEventId,
      expected: options.backlog,
    });
    say(
      `    ${side.kind} round ${round + 1}: ${result.received}/${result.expected} in ${ms(result.totalMs)} ms ` +
        `(first after ${ms(result.firstMs)} ms, ${result.inOrder ? "in order" : "OUT OF ORDER"}); ` +
        `RSS ${mb(rssBefore)} → peak ${mb(rssPeak)}, heap +${mb(heapPeak - before.heapUsed)}`,
    );
    return { ...result, rssBefore, rssPeak, heapBefore: before.heapUsed, heapPeak };
  } finally {
    clearInterval(rssTimer);
    clearInterval(heapTimer);
  }
}

function describeStep(step: SteadyResult) {
  const l = step.latency;
  const errors = errorsOf(step);
  return (
    `${step.offeredRate} msg/s → ${step.deliveredPerS.toFixed(0)} delivered/s; ` +
    `p50 ${ms(l.p50)} p95 ${ms(l.p95)} p99 ${ms(l.p99)} p99.9 ${ms(l.p999)} max ${ms(l.max)} ms; ` +
    `${errors} errors${errors ? ` (${step.errors.sample})` : ""}; ` +
    `server cpu ${step.serverCpuPct?.toFixed(0)}% (${step.serverCpuMsPerMessage?.toFixed(2)} ms/msg), ` +
    `loop busy ${((step.serverLoopBusy ?? 0) * 100).toFixed(0)}%, ` +
    `${step.dbStatementsPerMessage?.toFixed(2) ?? "?"} db statements/msg, load cpu ${step.loadCpuPct.toFixed(0)}%`
  );
}

// ---- main ----

const wantBaseline = options.scenarios.has("5");
const baselineRuns = wantBaseline && options.db === "postgres";
const loadBefore = loadavg();
say(
  `Naafe Chat benchmark ${stamp}${smoke ? " (smoke sizes)" : ""}: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ` +
    `node ${process.version}, ${options.db}, ${options.instances} instance(s), load average ${loadBefore.map((l) => l.toFixed(1)).join(" ")}`,
);
if (wantBaseline && !baselineRuns) say("Scenario 5 (baseline) skipped: it needs PostgreSQL (set DATABASE_URL).");

const sides: Side[] = [];
// Interrupted: still stop the servers and drop the bench databases.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping the servers and removing the bench databases`);
    Promise.allSettled(sides.map((side) => side.close())).finally(() => process.exit(130));
  });
}
sides.push(await openSide("naafe"));
try {
  if (baselineRuns) sides.push(await openSide("baseline"));
  const s = options.scenarios;
  const s2Users = Math.max(options.users, Math.ceil(Math.max(...options.steps) / 8 / 2) * 2);
  const loadUsers = Math.max(s.has("1") ? options.users : 0, s.has("2") ? s2Users : 0);
  if (loadUsers > 0)
    for (const side of sides) await side.first.request({ op: "seedPairs", prefix: "load", pairs: loadUsers / 2 });
  if (s.has("1")) await steadyLoad(sides);
  if (s.has("2")) await ceiling(sides, s2Users);
  for (const side of sides) {
    await side.load.request({ op: "closeAll" });
    side.connected = 0;
  }
  if (s.has("3")) {
    say(`[3] connections: ${options.connections} idle clients, each with a chat.onMessage subscription`);
    for (const side of sides) await connections(side);
  }
  if (s.has("4")) {
    say(`[4] catch-up: ${options.backlog} missed messages, ${options.repeat} round(s)`);
    for (let round = 0; round < options.repeat; round++) {
      for (const side of inTurn(sides, round)) {
        side.report.s4Rounds = [...(side.report.s4Rounds ?? []), await catchUp(side, round)];
      }
    }
    for (const side of sides) side.report.s4 = median(side.report.s4Rounds ?? [], (round) => round.totalMs);
  }
} finally {
  for (const side of sides) await side.close();
}
const reports = sides.map((side) => side.report);
const [ours, baseline] = reports as [TargetReport, TargetReport | undefined];

// ---- report ----

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && a > 0 && b > 0 ? Number((a / b).toFixed(2)) : null;
/** Latency of a step, or why there is none. */
const lat = (step: SteadyResult | undefined, key: keyof Percentiles) =>
  step && (step.latency.count === 0 ? "none delivered" : ms(step.latency[key]));
const ratios = baseline
  ? {
      s1P50: ratio(ours.s1?.latency.p50, baseline.s1?.latency.p50),
      s1P99: ratio(ours.s1?.latency.p99, baseline.s1?.latency.p99),
      s1CpuPerMessage: ratio(ours.s1?.serverCpuMsPerMessage, baseline.s1?.serverCpuMsPerMessage),
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
add("s1 p50 (ms)", (r) => lat(r.s1, "p50"), ratios?.s1P50);
add("s1 p95 (ms)", (r) => lat(r.s1, "p95"));
add("s1 p99 (ms)", (r) => lat(r.s1, "p99"), ratios?.s1P99);
add("s1 p99.9 (ms)", (r) => lat(r.s1, "p999"));
add("s1 max (ms)", (r) => lat(r.s1, "max"));
add("s1 delivered/s", (r) => r.s1?.deliveredPerS.toFixed(0));
add("s1 errors", (r) => r.s1 && String(r.s1.errors.send + r.s1.errors.lost + r.s1.errors.connection));
add("s1 ack p99 (ms)", (r) => r.s1 && (r.s1.ack.count === 0 ? "none acknowledged" : ms(r.s1.ack.p99)));
add("s1 server CPU/msg (ms)", (r) => r.s1?.serverCpuMsPerMessage?.toFixed(3), ratios?.s1CpuPerMessage);
add("s1 db statements/msg", (r) => r.s1?.dbStatementsPerMessage?.toFixed(2));
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
      `${step.serverCpuPct?.toFixed(0)}%`,
      step.serverCpuMsPerMessage?.toFixed(3) ?? "-",
      `${step.loadCpuPct.toFixed(0)}%`,
    ]),
  );
  console.log(
    table(
      [
        "s2",
        "offered",
        "delivered/s",
        "p50",
        "p95",
        "p99",
        "p99.9",
        "max",
        "errors",
        "server cpu",
        "ms/msg",
        "load cpu",
      ],
      stepRows,
    ),
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
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
  },
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
if (options.cpuProf) {
  for (const report of reports) {
    console.log(`\n${report.kind}: ${summarizeProfiles(join(options.out, `${stamp}-${report.kind}-profile`))}`);
  }
}

// The smoke run checks that the whole chain works, not how fast: it fails only when it does not.
if (smoke) {
  const broken = reports.flatMap((report) => [
    ...(report.s1 && report.s1.delivered === 0 ? [`${report.kind}: scenario 1 delivered nothing`] : []),
    ...(report.s2 && report.s2.steps[0]?.delivered === 0 ? [`${report.kind}: scenario 2 delivered nothing`] : []),
    ...(report.s3 && report.s3.connect.failed > 0
      ? [`${report.kind}: ${report.s3.connect.failed} connections failed`]
      : []),
    ...(report.s3 && report.s3.probe.failures > 0
      ? [`${report.kind}: ${report.s3.probe.failures} probe messages of scenario 3 failed`]
      : []),
    ...(report.s4 && report.s4.received < report.s4.expected ? [`${report.kind}: catch-up incomplete`] : []),
  ]);
  if (broken.length > 0) {
    console.error(`\nSmoke run failed:\n  ${broken.join("\n  ")}`);
    process.exitCode = 1;
  }
}
