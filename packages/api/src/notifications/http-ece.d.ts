declare module "http_ece" {
  import type { ECDH } from "node:crypto";

  interface Parameters {
    version?: "aes128gcm" | "aesgcm" | "aesgcm128";
    privateKey?: ECDH;
    authSecret?: string | Buffer;
    dh?: string | Buffer;
  }
  export function decrypt(buffer: Buffer, parameters: Parameters): Buffer;
  export function encrypt(buffer: Buffer, parameters: Parameters): Buffer;
}
