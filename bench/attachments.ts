/**
 * `npx tsx bench/attachments.ts [--images N] [--concurrent N] [--megabytes N]`: starts a server
 * process (embedded PGlite, disk storage in a temporary folder) and measures
 * 1. a 10 MB photo: createUpload → PUT → checked (re-encoded, thumbnail) → sent → the other
 *    participant's onMessage has it; p50/p99 over --images runs;
 * 2. --concurrent uploads of --megabytes MB at once: the server's RSS over its idle RSS (read
 *    from /proc), which stays small when uploads stream.
 * Not part of CI; see docs/attachments.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type AppRouter, signToken } from "@naafe/api";
import { transformer } from "@naafe/api/transformer";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from "@trpc/client";
import sharp from "sharp";
import WebSocket from "ws";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "20" },
    concurrent: { type: "string", default: "50" },
    megabytes: { type: "string", default: "5" },
  },
});
const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const SECRET = "bench-attachments-secret-long-enough-for-hs256";
const say = (text: string) => console.log(text);

async function freePort() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

async function startServer(dataDir: string, port: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      DEMO: "false",
      LOG_LEVEL: "warn",
      WEB_DIST: join(dataDir, "none"),
      WRITE_BURST: "1000",
      WRITE_PER_SECOND: "1000",
      ATTACHMENT_DAILY_QUOTA_MB: "100000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error("the server did not start");
}

async function rssMb(child: ChildProcess) {
  const status = await readFile(`/proc/${child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function connect(url: string, user: string) {
  const token = signToken({ secret: SECRET }, { id: user, name: user }, "1h");
  const ws = createWSClient({
    url: `${url.replace(/^http/, "ws")}/trpc`,
    connectionParams: () => ({ token }),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: ws, transformer }),
        false: httpBatchLink({
          url: `${url}/trpc`,
          transformer,
          maxItems: 10,
          headers: { authorization: `Bearer ${token}` },
        }),
      }),
    ],
  });
  return { client, close: () => ws.close() };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

const dataDir = await mkdtemp(join(tmpdir(), "bench-attachments-"));
const { child, url } = await startServer(dataDir, await freePort());
const seeker = connect(url, "bench-seeker");
const provider = connect(url, "bench-provider");
try {
  const job = await seeker.client.jobRequest.create.mutate({ title: "Bench the uploads" });
  const offer = await provider.client.offer.create.mutate({ jobRequestId: job.id, price: 100 });
  const { conversation } = await seeker.client.offer.accept.mutate({ offerId: offer.id });
  const conversationId = conversation.id;
  const fresh = await rssMb(child);

  // Noise compresses badly: a JPEG of about 10 MB.
  const side = 2600;
  const noise = Buffer.alloc(side * side * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const photo = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 100 })
    .toBuffer();
  say(`1. A ${(photo.length / 1024 / 1024).toFixed(1)} MB photo, upload to delivery, ${values.images} times`);

  const arrived = new Map<string, () => void>();
  const subscription = provider.client.chat.onMessage.subscribe(
    { conversationId },
    { onData: (event) => arrived.get(event.data.content)?.() },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const timings: number[] = [];
  for (let run = 0; run < Number(values.images); run++) {
    const content = `photo ${run}`;
    const delivered = new Promise<void>((resolve) => arrived.set(content, resolve));
    const start = performance.now();
    const target = await seeker.client.chat.createUpload.mutate({
      conversationId,
      name: "wall.jpg",
      size: photo.length,
      mimeType: "image/jpeg",
    });
    const put = await fetch(target.url, { method: target.method, headers: target.headers, body: photo });
    if (!put.ok) throw new Error(`upload refused: ${await put.text()}`);
    await seeker.client.chat.sendMessage.mutate({ conversationId, content, attachmentIds: [target.uploadId] });
    await delivered;
    timings.push(performance.now() - start);
  }
  subscription.unsubscribe();
  timings.sort((a, b) => a - b);
  say(`   p50 ${percentile(timings, 0.5).toFixed(0)} ms, p99 ${percentile(timings, 0.99).toFixed(0)} ms`);

  const concurrent = Number(values.concurrent);
  const bytes = Number(values.megabytes) * 1024 * 1024;
  const file = Buffer.alloc(bytes, "All work and no play makes a bench run.\n");
  const idle = await rssMb(child);
  say(`2. ${concurrent} uploads of ${values.megabytes} MB at once`);
  let peak = idle;
  const sampler = setInterval(() => {
    rssMb(child).then(
      (mb) => {
        peak = Math.max(peak, mb);
      },
      () => {},
    );
  }, 20);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrent }, async (_, i) => {
      const target = await seeker.client.chat.createUpload.mutate({
        conversationId,
        name: `notes-${i}.txt`,
        size: bytes,
        mimeType: "text/plain",
      });
      const put = await fetch(target.url, { method: target.method, headers: target.headers, body: file });
      if (!put.ok) throw new Error(`upload refused: ${await put.text()}`);
    }),
  );
  clearInterval(sampler);
  say(
    `   ${((performance.now() - started) / 1000).toFixed(1)} s; server RSS before ${idle.toFixed(0)} MB ` +
      `(${fresh.toFixed(0)} MB before scenario 1's photos), peak ${peak.toFixed(0)} MB (+${(peak - idle).toFixed(0)} MB)`,
  );
} finally {
  seeker.close();
  provider.close();
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
}
