import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { verifyTranscript } from "./verify.ts";

// `pnpm verify-transcript FILE [--key server-public-key.pem]`: exit 0 when the transcript is intact.
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { key: { type: "string" } },
});
const file = positionals[0];
if (!file) {
  console.error("Usage: pnpm verify-transcript FILE.jsonl [--key server-public-key.pem]");
  process.exit(2);
}
const publicKey = values.key ? readFileSync(values.key, "utf8") : undefined;
const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
const result = await verifyTranscript(lines, { publicKey });

for (const problem of result.problems) console.log(`✗ ${problem.message}`);
if (result.valid) {
  console.log(
    `✓ Intact: ${result.messageCount} messages of conversation ${result.conversationId}, signed by the server.`,
  );
  if (!result.keyTrusted) {
    console.log(
      "  Checked with the key inside the file; pass --key with the server's public key (GET /export/public-key) to know it was this server.",
    );
  }
}
process.exit(result.valid ? 0 : 1);
