import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { verifyTranscript } from "@naafe/transcript";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, startTestServer } from "./harness.ts";

/** `chat.search`'s answer as it crosses the wire (superjson's `json` part). */
interface WireSearch {
  results: {
    messageId: string;
    content: string;
    highlights: { start: number; end: number }[];
    otherParticipant: { id: string; name: string | null };
  }[];
  nextCursor: string | null;
}

const run = promisify(execFile);
const repoRoot = new URL("../../../", import.meta.url).pathname;

describe("search and export over HTTP", () => {
  let app: Awaited<ReturnType<typeof startTestServer>>;
  let conversationId = "";
  let secondId = "";
  const contents = [
    "مرحبا، السعر ٣٥٠ ريال؟",
    '=HYPERLINK("http://evil")',
    '<script>alert(1)</script> & "quotes"',
    "line one\nline two",
  ];
  /** The conversation as exported: the notice it opened with, then what was sent. */
  const transcript = ["Offer accepted: 350 EGP", ...contents];

  beforeAll(async () => {
    app = await startTestServer();
    await using sara = connectClient(app.url, app.token("sara"));
    await using omar = connectClient(app.url, app.token("omar"));
    const open = async (title: string) => {
      const job = await sara.client.jobRequest.create.mutate({ title });
      const offer = await omar.client.offer.create.mutate({ jobRequestId: job.id, price: 350 });
      return (await sara.client.offer.accept.mutate({ offerId: offer.id })).conversation.id;
    };
    conversationId = await open("Paint the living room");
    secondId = await open("Fix the tap");
    for (const [index, content] of contents.entries()) {
      const client = index % 2 ? omar.client : sara.client;
      await client.chat.sendMessage.mutate({ conversationId, content });
    }
    await omar.client.chat.markRead.mutate({ conversationId });
    await omar.client.chat.sendMessage.mutate({ conversationId: secondId, content: "On my way" });
  });

  afterAll(async () => {
    await app?.[Symbol.asyncDispose]();
  });

  const get = (path: string, user: string | null = "sara") =>
    fetch(`${app.url}${path}`, { headers: user ? { authorization: `Bearer ${app.token(user)}` } : {} });
  const publicKey = async () => (await fetch(`${app.url}/export/public-key`)).text();

  it("streams a participant's conversation as JSONL that verifies with the server's key", async () => {
    const response = await get(`/export/conversations/${conversationId}?format=jsonl`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(response.headers.get("content-disposition")).toMatch(/attachment; filename="naafe-conversation-.*\.jsonl"/);
    const text = await response.text();
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(transcript.length + 2);
    expect(lines.slice(1, -1).map((line) => JSON.parse(line).content)).toEqual(transcript);
    // Sara's first message, which Omar read.
    expect(JSON.parse(lines[2] ?? "{}").readAt).toEqual(expect.any(String));
    const result = await verifyTranscript(lines, { publicKey: await publicKey() });
    expect(result).toMatchObject({ valid: true, keyTrusted: true, conversationId, messageCount: transcript.length });
  });

  it("verify-transcript says which message of a downloaded file was changed", async () => {
    const text = await (await get(`/export/conversations/${conversationId}?format=jsonl`, "omar")).text();
    const dir = await mkdtemp(join(tmpdir(), "naafe-transcript-"));
    try {
      const intact = join(dir, "intact.jsonl");
      const altered = join(dir, "altered.jsonl");
      const keyFile = join(dir, "server.pem");
      await writeFile(intact, text);
      await writeFile(altered, text.replace("٣٥٠", "٣٠٠"));
      await writeFile(keyFile, await publicKey());
      const ok = await run("pnpm", ["-s", "verify-transcript", intact, "--key", keyFile], { cwd: repoRoot });
      expect(ok.stdout).toContain(`✓ Intact: ${transcript.length} messages`);
      const failed = await run("pnpm", ["-s", "verify-transcript", altered], { cwd: repoRoot }).catch(
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed).toMatchObject({ code: 1 });
      expect((failed as { stdout: string }).stdout).toMatch(/✗ message 2 \(.+, line 3\) was altered/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes CSV with a byte order mark, quoted cells and formulas defused", async () => {
    const response = await get(`/export/conversations/${conversationId}?format=csv`);
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(await response.arrayBuffer());
    expect(text.startsWith('\uFEFF"seq",')).toBe(true);
    expect(text).toContain('"\'=HYPERLINK(""http://evil"")"');
    expect(text).toContain('"line one\nline two"');
    expect(text).toMatch(/"end",.*"5 messages; signature /);
  });

  it("writes a printable HTML transcript: escaped, each message dir=auto, nothing that runs", async () => {
    const response = await get(`/export/conversations/${conversationId}?format=html`);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await response.text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;");
    expect(html.match(/<p dir="auto">/g)).toHaveLength(transcript.length);
    expect(html).toContain("@media print");
  });

  it("answers others exactly as for a conversation that does not exist, and strangers without a token 401", async () => {
    const theirs = await get(`/export/conversations/${conversationId}?format=jsonl`, "stranger");
    const missing = await get(`/export/conversations/no-such-id?format=jsonl`, "stranger");
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await theirs.text()).toBe(await missing.text());
    expect((await get(`/export/conversations/${conversationId}`, null)).status).toBe(401);
    expect((await get(`/export/conversations/${conversationId}?format=pdf`)).status).toBe(400);
    expect((await get("/export/conversations?format=jsonl")).status).toBe(400);
  });

  it("zips all of the caller's conversations, one verifiable JSONL transcript each", async () => {
    const response = await get("/export/conversations?format=zip", "omar");
    expect(response.headers.get("content-type")).toBe("application/zip");
    const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(
      [`conversation-${conversationId}.jsonl`, `conversation-${secondId}.jsonl`].sort(),
    );
    const key = await publicKey();
    for (const bytes of Object.values(files)) {
      const result = await verifyTranscript(strFromU8(bytes).trimEnd().split("\n"), { publicKey: key });
      expect(result.valid).toBe(true);
    }
    const strangers = unzipSync(
      new Uint8Array(await (await get("/export/conversations?format=zip", "stranger")).arrayBuffer()),
    );
    expect(Object.keys(strangers)).toEqual([]);
  });
  it("searches over HTTP with the contract's names, then loads the page around the hit", async () => {
    const input = encodeURIComponent(JSON.stringify({ json: { query: "350", conversationId } }));
    const response = await get(`/trpc/chat.search?input=${input}`);
    expect(response.status).toBe(200);
    const { results, nextCursor } = ((await response.json()) as { result: { data: { json: WireSearch } } }).result.data
      .json;
    expect(nextCursor).toBeNull();
    const hit = results.find((result) => result.content === contents[0]);
    expect(Object.keys(hit ?? {}).sort()).toEqual(
      ["content", "conversationId", "files", "highlights", "messageId", "otherParticipant", "timestamp"].sort(),
    );
    // UTF-16 offsets into content: "350" found as written in Arabic-Indic digits.
    expect(hit?.highlights.map(({ start, end }) => contents[0]?.slice(start, end))).toEqual(["٣٥٠"]);
    expect(hit?.otherParticipant.id).toBe("omar");
    await using sara = connectClient(app.url, app.token("sara"));
    const page = await sara.client.chat.messages.query({ conversationId, around: hit?.messageId ?? "", limit: 3 });
    expect(page.messages.map((message) => message.id)).toContain(hit?.messageId);
  });
});
