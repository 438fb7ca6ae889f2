/**
 * Where the server's CPU went, from the .cpuprofile files `node --cpu-prof` wrote: self time
 * by package and by function. Open the files in Chrome DevTools or speedscope for a flame graph.
 * Usage: npx tsx bench/profile.ts <dir-or-file>
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { table } from "./report.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the stack a frame belongs to: a package, our code, Node, or V8. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const pnpm = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pnpm?.[1]) return pnpm[1];
  const plain = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (plain?.[1]) return plain[1];
  if (url.startsWith("node:")) return "node internals";
  const ours = url.match(/\/(packages\/[^/]+|apps\/[^/]+|bench)\//);
  return ours?.[1] ?? url;
}

export function summarizeProfiles(path: string, top = 25): string {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((file) => file.endsWith(".cpuprofile"))
        .map((file) => join(path, file))
    : [path];
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const skipped: string[] = [];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    // Threads that only idled (tsx's loader worker) would drown the main thread's figures.
    if (idleShare(profile) > 0.95) {
      skipped.push(file);
      continue;
    }
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, index) => {
      const micros = profile.timeDeltas[index] ?? 0;
      const frame = nodes.get(id)?.callFrame;
      if (!frame) return;
      total += micros;
      if (frame.functionName === "(idle)") idle += micros;
      const where = area(frame.url, frame.functionName);
      byArea.set(where, (byArea.get(where) ?? 0) + micros);
      const file = frame.url.split("/").slice(-2).join("/");
      const key = `${frame.functionName || "(anonymous)"}  ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    });
  }
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .filter(([name]) => name !== "(idle)")
      .map(([name, micros]) => [
        name,
        `${(micros / 1000).toFixed(0)} ms`,
        `${((micros / (total - idle)) * 100).toFixed(1)}%`,
      ]);
  return [
    `CPU profile: ${files.length - skipped.length} thread(s) in ${path} (${skipped.length} idle thread(s) left out), ` +
      `${(total / 1e6).toFixed(1)} s sampled, ${((total - idle) / 1e6).toFixed(1)} s busy; shares are of busy time`,
    "",
    table(["self time by area", "time", "of busy"], rows(byArea)),
    "",
    table(["self time by function", "time", "of busy"], rows(byFunction)),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) {
    console.error("Usage: npx tsx bench/profile.ts <dir-or-file>");
    process.exit(2);
  }
  console.log(summarizeProfiles(target));
}

function idleShare(profile: Profile) {
  const idleIds = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id),
  );
  let idle = 0;
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    total += micros;
    if (idleIds.has(id)) idle += micros;
  });
  return total === 0 ? 1 : idle / total;
}
