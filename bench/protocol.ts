/** Messages between the runner and its children (over Node's IPC channel). */

export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  eventLoopUtilization: number;
  /** Statements sent to PostgreSQL so far (0 with PGlite, which is not reached through node-postgres). */
  queries: number;
}

/** Runner → server child (ours or the baseline). */
export type ServerRequest =
  | { id: number; op: "memory"; gc: boolean }
  | { id: number; op: "seedPairs"; prefix: string; pairs: number }
  | { id: number; op: "seedBacklog"; prefix: string; count: number }
  | { id: number; op: "stop" };

/** Server child → runner. */
export type ServerMessage =
  | { type: "ready"; url: string; store: string }
  | { type: "reply"; id: number; result?: unknown; error?: string };

/** What a child reports back when a request failed: the stack when there is one. */
export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export type TargetKind = "naafe" | "baseline";

export interface Target {
  kind: TargetKind;
  /** One WebSocket URL per server instance. */
  urls: string[];
  secret: string;
}

export interface SteadyResult {
  offeredRate: number;
  durationS: number;
  sent: number;
  /** Including the warm-up. */
  sentTotal: number;
  /** Server CPU (all its processes, all threads) per message sent, warm-up and drain included. */
  serverCpuMsPerMessage?: number;
  /** Server CPU over the step's wall time, in % of one core. */
  serverCpuPct?: number;
  /** Share of the step the server's event loop was busy (0–1; the busiest instance). */
  serverLoopBusy?: number;
  /** Statements sent to PostgreSQL per message sent (warm-up included; PostgreSQL only): 1 is the goal. */
  dbStatementsPerMessage?: number;
  delivered: number;
  deliveredPerS: number;
  latency: import("./stats.ts").Percentiles;
  ack: import("./stats.ts").Percentiles;
  errors: { send: number; lost: number; connection: number; sample?: string | undefined };
  /** Late sends in the load process itself: high values mean the generator, not the server, was the limit. */
  scheduleLagP99: number;
  loadCpuPct: number;
  loadLoopDelayP99: number;
}

export interface ConnectResult {
  opened: number;
  failed: number;
  seconds: number;
  perSecond: number;
  sample?: string | undefined;
}

export interface CatchUpResult {
  received: number;
  expected: number;
  firstMs: number;
  totalMs: number;
  inOrder: boolean;
}

/** Runner → load process. */
export type LoadRequest =
  | { id: number; op: "connect"; target: Target; prefix: string; users: number; concurrency: number }
  | { id: number; op: "steady"; rate: number; durationMs: number; warmupMs: number; label: string }
  | { id: number; op: "probe"; count: number }
  | {
      id: number;
      op: "catchUp";
      target: Target;
      prefix: string;
      lastEventId: string;
      expected: number;
    }
  | { id: number; op: "closeAll" }
  | { id: number; op: "exit" };

/** Load process → runner. */
export type LoadMessage =
  | { type: "progress"; text: string }
  | { type: "reply"; id: number; result?: unknown; error?: string };
