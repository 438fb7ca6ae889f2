import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, sign } from "node:crypto";
import {
  type ChainedMessage,
  genesisHash,
  linkHash,
  signedText,
  type TranscriptEnd,
  type TranscriptMessage,
} from "@naafe/transcript";

/** The server's Ed25519 key that signs every exported transcript. */
export interface SigningKey {
  privateKey: KeyObject;
  /** SPKI PEM, published at `GET /export/public-key` and written into each transcript. */
  publicKeyPem: string;
}

/** From a PKCS#8 PEM private key (`TRANSCRIPT_SIGNING_KEY`); throws unless it is Ed25519. */
export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("The transcript signing key must be an Ed25519 key.");
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ format: "pem", type: "spki" }).toString() };
}

/** A new key pair, as PKCS#8 PEM (kept in `DATA_DIR` in development). */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
}

/** Tests and tools without a configured key: transcripts verify only with this process's public key. */
export const signingKeyOrEphemeral = () => signingKeyFromPem(generateSigningKeyPem());

/** A key for search cursors' MACs, derived from (never equal to) the signing key. */
export function cursorKeyFrom(key: SigningKey): Uint8Array {
  const secret = key.privateKey.export({ format: "der", type: "pkcs8" });
  return new Uint8Array(hkdfSync("sha256", secret, "naafe", "search cursor", 32));
}

/**
 * Links messages into the conversation's hash chain as they are exported, in `seq` order, and
 * signs its head at the end. Holds only the last link: memory does not grow with the transcript.
 */
export function createTranscriptChain(conversationId: string, key: SigningKey) {
  let head = genesisHash(conversationId);
  let count = 0;
  return {
    add(message: ChainedMessage): TranscriptMessage {
      head = linkHash(head, message);
      count++;
      return { type: "message", ...message, hash: head };
    },
    end(): TranscriptEnd {
      const signature = sign(null, Buffer.from(signedText(conversationId, count, head)), key.privateKey);
      return { type: "end", messageCount: count, head, signature: signature.toString("base64") };
    },
  };
}
