export {
  type ChainedMessage,
  genesisHash,
  linkHash,
  signedText,
  TRANSCRIPT_VERSION,
  type TranscriptEnd,
  type TranscriptHeader,
  type TranscriptMessage,
} from "./chain.ts";
export { type TranscriptProblem, type TranscriptVerification, type VerifyOptions, verifyTranscript } from "./verify.ts";
