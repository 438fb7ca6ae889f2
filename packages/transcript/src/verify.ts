import { createPublicKey, type KeyObject, verify } from "node:crypto";
import {
  genesisHash,
  linkHash,
  signedText,
  TRANSCRIPT_VERSION,
  type TranscriptEnd,
  type TranscriptHeader,
  type TranscriptMessage,
} from "./chain.ts";

export interface TranscriptProblem {
  kind: "altered" | "removed" | "inserted" | "damaged" | "format" | "signature" | "untrusted-key";
  /** A sentence naming what is wrong and where. */
  message: string;
  /** The message concerned, when one is. */
  seq?: number;
  messageId?: string;
  /** 1-based line of the file. */
  line?: number;
}

export interface TranscriptVerification {
  /** The chain is intact, the signature is valid, and (when a key was given) made with that key. */
  valid: boolean;
  conversationId: string | null;
  messageCount: number;
  /** Whether the signature was checked against a key the caller trusts, not only the file's own. */
  keyTrusted: boolean;
  problems: TranscriptProblem[];
}

export interface VerifyOptions {
  /** The server's public key (PEM or KeyObject). Without it, the key named in the file is used. */
  publicKey?: string | KeyObject | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isMessage = (value: Record<string, unknown>): value is TranscriptMessage & Record<string, unknown> =>
  value["type"] === "message" &&
  Number.isInteger(value["seq"]) &&
  ["messageId", "senderId", "receiverId", "content", "timestamp", "hash"].every(
    (key) => typeof value[key] === "string",
  ) &&
  (value["readAt"] === null || typeof value["readAt"] === "string");

/**
 * Checks a JSONL transcript line by line (memory stays flat however long it is): every message's
 * link in the hash chain, that `seq` runs 1, 2, 3… with none missing, and the server's Ed25519
 * signature over the conversation id, the count and the chain's head. Each problem names the
 * message (seq and id) and the line. Someone who alters messages and recomputes every hash
 * breaks the signature instead, which cannot say which message changed.
 */
export async function verifyTranscript(
  lines: Iterable<string> | AsyncIterable<string>,
  options: VerifyOptions = {},
): Promise<TranscriptVerification> {
  const problems: TranscriptProblem[] = [];
  let header: TranscriptHeader | null = null;
  let end: TranscriptEnd | null = null;
  let previousHash = "";
  let expectedSeq = 1;
  let messageCount = 0;
  let lineNumber = 0;
  let lastSeen = "the start";

  for await (const raw of lines) {
    lineNumber++;
    const text = raw.trim();
    if (!text) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isRecord(value)) {
      problems.push({
        kind: "damaged",
        line: lineNumber,
        message: `Line ${lineNumber} (after ${lastSeen}) is not a valid record: it was changed.`,
      });
      continue;
    }
    if (end) {
      problems.push({
        kind: "inserted",
        line: lineNumber,
        message: `Line ${lineNumber} comes after the signed end: it was added.`,
      });
      continue;
    }
    if (!header) {
      if (value["type"] !== "transcript" || typeof value["conversationId"] !== "string") {
        problems.push({
          kind: "format",
          line: lineNumber,
          message: "The first line is not a Naafe transcript header.",
        });
        return { valid: false, conversationId: null, messageCount: 0, keyTrusted: false, problems };
      }
      header = value as unknown as TranscriptHeader;
      if (header.version !== TRANSCRIPT_VERSION) {
        problems.push({
          kind: "format",
          line: lineNumber,
          message: `Transcript version ${String(header.version)} is not supported.`,
        });
      }
      previousHash = genesisHash(header.conversationId);
      continue;
    }
    if (value["type"] === "end") {
      end = value as unknown as TranscriptEnd;
      continue;
    }
    if (!isMessage(value)) {
      problems.push({
        kind: "damaged",
        line: lineNumber,
        message: `Line ${lineNumber} (after ${lastSeen}) is not a complete message record.`,
      });
      continue;
    }
    const where = `message ${value.seq} (${value.messageId}, line ${lineNumber})`;
    const seqGap = value.seq > expectedSeq;
    if (seqGap) {
      const missing =
        value.seq - expectedSeq === 1 ? `message ${expectedSeq}` : `messages ${expectedSeq}–${value.seq - 1}`;
      problems.push({
        kind: "removed",
        seq: expectedSeq,
        line: lineNumber,
        message: `${missing} before ${where} ${value.seq - expectedSeq === 1 ? "was" : "were"} removed.`,
      });
    } else if (value.seq < expectedSeq) {
      problems.push({
        kind: "inserted",
        seq: value.seq,
        messageId: value.messageId,
        line: lineNumber,
        message: `${where} is out of order or repeated.`,
      });
    }
    // A gap already explains why this link does not follow on; its own fields are checked by the next link.
    if (!seqGap && linkHash(previousHash, value) !== value.hash) {
      problems.push({
        kind: "altered",
        seq: value.seq,
        messageId: value.messageId,
        line: lineNumber,
        message: `${where} was altered: its content, sender, time or read time is not what was exported.`,
      });
    }
    previousHash = value.hash;
    expectedSeq = Math.max(expectedSeq, value.seq + 1);
    messageCount++;
    lastSeen = `message ${value.seq}`;
  }

  const conversationId = header?.conversationId ?? null;
  if (!header) {
    problems.push({ kind: "format", message: "The file is empty or not a Naafe transcript." });
    return { valid: false, conversationId, messageCount, keyTrusted: false, problems };
  }
  if (!end) {
    problems.push({
      kind: "removed",
      message: `The signed end line is missing: the transcript was cut after ${lastSeen}.`,
    });
    return { valid: false, conversationId, messageCount, keyTrusted: false, problems };
  }
  if (end.messageCount > expectedSeq - 1) {
    const first = expectedSeq;
    const what = end.messageCount === first ? `message ${first}` : `messages ${first}–${end.messageCount}`;
    problems.push({
      kind: "removed",
      seq: first,
      message: `The last ${what} of ${end.messageCount} ${end.messageCount === first ? "was" : "were"} removed.`,
    });
  } else if (end.head !== previousHash) {
    problems.push({
      kind: "altered",
      message: `The chain ends at ${lastSeen}, which does not match the signed end: the last messages were changed or the end line was.`,
    });
  }

  let key: KeyObject;
  let keyTrusted = false;
  try {
    const embedded = createPublicKey(header.publicKey);
    key = embedded;
    if (options.publicKey) {
      key = typeof options.publicKey === "string" ? createPublicKey(options.publicKey) : options.publicKey;
      keyTrusted = true;
      if (!key.equals(embedded)) {
        problems.push({
          kind: "untrusted-key",
          message: "The transcript names a different signing key than the one given.",
        });
      }
    }
  } catch {
    problems.push({ kind: "signature", message: "The transcript's public key is not a valid key." });
    return { valid: false, conversationId, messageCount, keyTrusted, problems };
  }
  const signed = Buffer.from(signedText(header.conversationId, end.messageCount, end.head));
  let signatureValid = false;
  try {
    signatureValid = verify(null, signed, key, Buffer.from(String(end.signature), "base64"));
  } catch {
    signatureValid = false;
  }
  if (!signatureValid) {
    problems.push({
      kind: "signature",
      message:
        "The server's signature does not match: the conversation id, the message count or the chain's head was changed (or the hashes were recomputed).",
    });
  }
  return { valid: problems.length === 0, conversationId, messageCount, keyTrusted, problems };
}
