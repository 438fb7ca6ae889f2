import { createHash } from "node:crypto";

export const TRANSCRIPT_VERSION = 1;

/** What a transcript's hash chain covers of each message, in `seq` order. */
export interface ChainedMessage {
  seq: number;
  messageId: string;
  senderId: string;
  receiverId: string;
  content: string;
  /** ISO 8601. */
  timestamp: string;
  /** ISO 8601, or null while unread. */
  readAt: string | null;
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The chain's starting point: bound to the conversation, so a chain cannot be moved to another. */
export const genesisHash = (conversationId: string) =>
  sha256(`naafe-transcript-v${TRANSCRIPT_VERSION}\n${conversationId}`);

/** The link after `previous`: the hash of the previous link and the message's fields in a fixed order. */
export function linkHash(previous: string, message: ChainedMessage): string {
  const { seq, messageId, senderId, receiverId, content, timestamp, readAt } = message;
  return sha256(`${previous}\n${JSON.stringify([seq, messageId, senderId, receiverId, content, timestamp, readAt])}`);
}

/** The bytes the server signs: the conversation, how many messages, and the chain's last link. */
export const signedText = (conversationId: string, messageCount: number, head: string) =>
  `naafe-transcript-v${TRANSCRIPT_VERSION}\n${conversationId}\n${messageCount}\n${head}`;

/** First line of a JSONL transcript. */
export interface TranscriptHeader {
  type: "transcript";
  version: number;
  conversationId: string;
  exportedAt: string;
  exportedBy: string;
  participants: { id: string; name: string | null; role: "seeker" | "provider" }[];
  /** The server's Ed25519 public key (SPKI, PEM) that signed the `end` line. */
  publicKey: string;
}

/** One line per message, with its link in the chain. */
export interface TranscriptMessage extends ChainedMessage {
  type: "message";
  hash: string;
}

/** Last line: the chain's head and the server's signature over `signedText`. */
export interface TranscriptEnd {
  type: "end";
  messageCount: number;
  head: string;
  /** Ed25519, base64. */
  signature: string;
}
