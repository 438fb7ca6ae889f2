/** Starting the server and load children and talking to them over IPC. */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LoadMessage, LoadRequest, MemoryUsage, ServerMessage, ServerRequest } from "./protocol.ts";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));

type Without<T> = T extends unknown ? Omit<T, "id"> : never;

/** Request/response over a child's IPC channel; a child that dies fails what is in flight. */
class Channel<Req extends { id: number }, Msg extends { type: string }> {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
    onMessage: (message: Msg) => void = () => {},
  ) {
    child.on("message", (message: Msg | { type: "reply"; id: number; result?: unknown; error?: string }) => {
      if (message.type === "reply" && "id" in message) {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${name}: ${message.error}`));
        else waiter?.resolve(message.result);
      } else onMessage(message as Msg);
    });
    child.on("exit", (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  request<T>(request: Without<Req>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.name} is gone (${this.child.exitCode ?? this.child.signalCode ?? "disconnected"})`));
        return;
      }
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // With a callback, a channel that closed meanwhile fails this request instead of crashing the runner.
      this.child.send({ ...request, id }, (error) => {
        if (!error) return;
        this.waiting.delete(id);
        reject(new Error(`${this.name}: ${error.message}`));
      });
    });
  }
}

/** Resolves when `child` has exited, also when it already had. */
function exitOf(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => child.once("exit", () => resolve()));
}

/** A TypeScript child with an IPC channel; its output goes to `logFile` when given. */
function tsxChild(file: string, nodeArgs: string[], env: NodeJS.ProcessEnv, logFile?: string) {
  const output = logFile ? openSync(logFile, "a") : "inherit";
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--import", "tsx", fileURLToPath(new URL(file, import.meta.url))],
    {
      cwd: repoRoot,
      env,
      stdio: ["ignore", output, output, "ipc"],
    },
  );
  if (typeof output === "number") closeSync(output);
  return child;
}

export interface ServerChild {
  url: string;
  store: string;
  pid: number;
  request<T>(request: Without<ServerRequest>): Promise<T>;
  memory(gc: boolean): Promise<MemoryUsage>;
  /** Resident memory read from /proc, which answers even while the server's event loop is busy. */
  rss(): number;
  /** CPU time the process has used so far (all threads), in ms, from /proc. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The Node flags `pnpm start` runs the server with, read from its start script (their one home). */
const SERVER_NODE_FLAGS = (() => {
  const manifest = JSON.parse(readFileSync(`${repoRoot}apps/server/package.json`, "utf8")) as {
    scripts: { start: string };
  };
  return manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith("--"));
})();

export async function startServerChild(
  kind: "naafe" | "baseline",
  env: NodeJS.ProcessEnv,
  nodeArgs: string[],
  logFile: string,
): Promise<ServerChild> {
  const file = kind === "naafe" ? "./server-child.ts" : "./baseline/server.ts";
  // Our server with the flags its start script gives it (apps/server/package.json).
  const startFlags = kind === "naafe" ? SERVER_NODE_FLAGS : [];
  const child = tsxChild(file, ["--expose-gc", ...startFlags, ...nodeArgs], env, logFile);
  const ready = new Promise<{ url: string; store: string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} server exited during start-up (${code}); see ${logFile}`)));
    child.on("message", (message: ServerMessage) => {
      if (message.type === "ready") resolve(message);
    });
  });
  const channel = new Channel<ServerRequest, ServerMessage>(child, `${kind} server`);
  const { url, store } = await ready;
  const pid = child.pid ?? 0;
  return {
    url,
    store,
    pid,
    request: (request) => channel.request(request),
    memory: (gc) => channel.request({ op: "memory", gc }),
    rss: () => procStatus(pid, "VmRSS"),
    cpuMs: () => procCpuMs(pid),
    async stop() {
      const exited = exitOf(child);
      await channel.request({ op: "stop" }).catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function startLoadChild(onProgress: (text: string) => void) {
  // Ten thousand clients with their pending maps need more than the default old space. Without
  // allocation-site pretenuring, the tRPC clients' per-call objects stay young, so the load's
  // own young collections (which every latency includes) stay short; docs/performance.md.
  const child = tsxChild("./load.ts", ["--max-old-space-size=4096", "--no-allocation-site-pretenuring"], process.env);
  const channel = new Channel<LoadRequest, LoadMessage>(child, "load process", (message) => {
    if (message.type === "progress") onProgress(message.text);
  });
  return {
    pid: child.pid ?? 0,
    request: <T>(request: Without<LoadRequest>) => channel.request<T>(request),
    async exit() {
      const exited = exitOf(child);
      await channel.request({ op: "exit" }).catch(() => {});
      await exited;
    },
  };
}

/** A /proc/<pid>/status field in bytes (0 when unavailable, e.g. not on Linux). */
export function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process in ms (0 when unavailable). Clock ticks are 100 Hz on Linux. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
