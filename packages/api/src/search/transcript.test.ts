import { verifyTranscript } from "@naafe/transcript";
import { describe, expect, it } from "vitest";
import { createTranscriptChain, signingKeyOrEphemeral } from "./transcript.ts";

const key = signingKeyOrEphemeral();
const conversationId = "conversation-1";

/** A JSONL transcript of `count` messages, as lines. */
function transcript(count: number, signingKey = key) {
  const chain = createTranscriptChain(conversationId, signingKey);
  const header = {
    type: "transcript",
    version: 1,
    conversationId,
    exportedAt: "2026-12-04T12:00:00.000Z",
    exportedBy: "sara",
    participants: [],
    publicKey: signingKey.publicKeyPem,
  };
  const messages = Array.from({ length: count }, (_, index) =>
    chain.add({
      seq: index + 1,
      messageId: `m${index + 1}`,
      senderId: index % 2 ? "omar" : "sara",
      receiverId: index % 2 ? "sara" : "omar",
      content: index === 2 ? "السعر ٣٥٠ ريال" : `message ${index + 1}`,
      timestamp: new Date(Date.UTC(2026, 11, 4, 12, index)).toISOString(),
      readAt: index < 3 ? new Date(Date.UTC(2026, 11, 4, 13, index)).toISOString() : null,
    }),
  );
  return [header, ...messages, chain.end()].map((line) => JSON.stringify(line));
}

describe("verifyTranscript", () => {
  it("accepts an intact transcript, with the server's key given or only the file's", async () => {
    const lines = transcript(5);
    expect(await verifyTranscript(lines, { publicKey: key.publicKeyPem })).toEqual({
      valid: true,
      conversationId,
      messageCount: 5,
      keyTrusted: true,
      problems: [],
    });
    expect(await verifyTranscript(lines)).toMatchObject({ valid: true, keyTrusted: false });
    expect(await verifyTranscript(transcript(0))).toMatchObject({ valid: true, messageCount: 0 });
  });

  it("names the message when one byte of it changed", async () => {
    const lines = transcript(5);
    lines[3] = (lines[3] ?? "").replace("ريال", "ريان");
    const result = await verifyTranscript(lines);
    expect(result.valid).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        kind: "altered",
        seq: 3,
        messageId: "m3",
        line: 4,
        message: expect.stringMatching(/^message 3 \(m3, line 4\) was altered/),
      }),
    ]);
  });

  it("names the message whose read time or sender changed", async () => {
    const lines = transcript(5);
    lines[2] = (lines[2] ?? "").replace('"senderId":"omar"', '"senderId":"sara"');
    const result = await verifyTranscript(lines);
    expect(result.problems.map((problem) => [problem.kind, problem.seq])).toEqual([["altered", 2]]);
  });

  it("names a removed message, in the middle or at the end", async () => {
    const middle = transcript(5);
    middle.splice(3, 1);
    expect((await verifyTranscript(middle)).problems).toEqual([
      expect.objectContaining({
        kind: "removed",
        seq: 3,
        message: expect.stringMatching(/^message 3 before message 4/),
      }),
    ]);
    const last = transcript(5);
    last.splice(5, 1);
    expect((await verifyTranscript(last)).problems).toEqual([
      expect.objectContaining({ kind: "removed", seq: 5, message: "The last message 5 of 5 was removed." }),
    ]);
  });

  it("refuses a recomputed chain (signature), a changed count, a cut file and another key", async () => {
    const rehashed = transcript(3);
    const end = JSON.parse(rehashed.at(-1) ?? "{}");
    end.head = "0".repeat(64);
    rehashed[rehashed.length - 1] = JSON.stringify(end);
    expect((await verifyTranscript(rehashed)).problems.map((problem) => problem.kind)).toEqual([
      "altered",
      "signature",
    ]);

    const cut = transcript(3).slice(0, -1);
    expect((await verifyTranscript(cut)).problems).toEqual([
      expect.objectContaining({ kind: "removed", message: expect.stringContaining("after message 3") }),
    ]);

    const other = signingKeyOrEphemeral();
    const result = await verifyTranscript(transcript(3, other), { publicKey: key.publicKeyPem });
    expect(result.valid).toBe(false);
    expect(result.problems.map((problem) => problem.kind)).toContain("untrusted-key");
  });

  it("reports a line that is no longer JSON with the message before it", async () => {
    const lines = transcript(4);
    lines[2] = (lines[2] ?? "").replace('"content"', '"content');
    const result = await verifyTranscript(lines);
    expect(result.valid).toBe(false);
    expect(result.problems[0]).toMatchObject({
      kind: "damaged",
      line: 3,
      message: expect.stringContaining("after message 1"),
    });
  });
});
