/// <reference path="./http-ece.d.ts" />
import { execFileSync } from "node:child_process";
import { createECDH, createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { Agent, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decrypt } from "http_ece";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { PushPayload } from "./push.ts";

/** What the test push service does with the next request. */
export type PushAnswer = number | "hang";

export interface ReceivedPush {
  headers: IncomingHttpHeaders;
  /** The VAPID JWT's claims, once its ES256 signature checked out against the `k` key. */
  vapid: { aud: string; exp: number; sub: string; publicKey: string };
  /** The payload, decrypted with the subscription's private key. */
  payload: PushPayload;
  answer: PushAnswer;
}

/** A self-signed certificate for 127.0.0.1, made with openssl into a temp dir. */
function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "notifications-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Verifies `vapid t=<jwt>, k=<key>` as a push service would: ES256 over the JWT with the raw P-256 key `k`. */
function verifyVapid(authorization: string | undefined) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!match?.[1] || !match[2]) throw new Error(`not a VAPID authorization: ${authorization}`);
  const [header, claims, signature] = match[1].split(".");
  if (!header || !claims || !signature) throw new Error("malformed JWT");
  const raw = Buffer.from(match[2], "base64url");
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: raw.subarray(1, 33).toString("base64url"),
      y: raw.subarray(33, 65).toString("base64url"),
    },
    format: "jwk",
  });
  const valid = verify(
    "sha256",
    Buffer.from(`${header}.${claims}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!valid) throw new Error("VAPID signature does not verify");
  const alg = (JSON.parse(Buffer.from(header, "base64url").toString()) as { alg: string }).alg;
  if (alg !== "ES256") throw new Error(`VAPID alg ${alg}`);
  return {
    ...(JSON.parse(Buffer.from(claims, "base64url").toString()) as { aud: string; exp: number; sub: string }),
    publicKey: match[2],
  };
}

/**
 * A push service for tests on https://127.0.0.1: checks each request's VAPID JWT, decrypts its
 * payload with the subscription's private key, and answers as `answer` says.
 */
export async function startPushService(answer: (request: number) => PushAnswer = () => 201) {
  const { key, cert } = selfSignedCertificate();
  const receiver = createECDH("prime256v1");
  receiver.generateKeys();
  const authSecret = randomBytes(16);
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  const hanging = new Set<ServerResponse>();
  const waiting = waiters(() => received.length);
  const server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let entry: ReceivedPush;
      try {
        const vapid = verifyVapid(req.headers.authorization);
        if (req.headers["content-encoding"] !== "aes128gcm") throw new Error("not aes128gcm");
        const plain = decrypt(Buffer.concat(chunks), { version: "aes128gcm", privateKey: receiver, authSecret });
        entry = { headers: req.headers, vapid, payload: JSON.parse(plain.toString()) as PushPayload, answer: 0 };
      } catch (error) {
        refused.push(String(error));
        res.writeHead(400).end();
        return;
      }
      entry.answer = answer(received.length);
      received.push(entry);
      waiting.changed();
      if (entry.answer === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(entry.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ ca: cert });
  let devices = 0;
  return {
    origin: `https://127.0.0.1:${port}`,
    /** Trusts this service's certificate (give it to the pusher). */
    agent,
    received,
    /** Requests that failed the VAPID check or did not decrypt. */
    refused,
    /** Resolves once `count` pushes have arrived in all. */
    receivedCount: waiting.until,
    /** A browser subscription to this service (each call a new device endpoint, same keys). */
    subscription() {
      return {
        endpoint: `https://127.0.0.1:${port}/push/${++devices}`,
        keys: { p256dh: receiver.getPublicKey("base64url"), auth: authSecret.toString("base64url") },
      };
    },
    async [Symbol.asyncDispose]() {
      for (const res of hanging) res.destroy();
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A real SMTP server on 127.0.0.1 that keeps every email, parsed; `stop` and `listen` take it down and up on one port. */
export async function startMailServer(port = 0) {
  const received: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const waiting = waiters(() => received.length);
  let server: SMTPServer | undefined;
  let boundPort = port;
  async function listen() {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((mail) => {
            received.push(mail);
            envelopes.push(session.envelope.rcptTo.map((rcpt) => rcpt.address));
            callback();
            waiting.changed();
          })
          .catch(callback);
      },
    });
    const current = server;
    await new Promise<void>((resolve) => current.listen(boundPort, "127.0.0.1", () => resolve()));
    boundPort = (current.server.address() as AddressInfo).port;
  }
  async function stop() {
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }
  if (port >= 0) await listen();
  return {
    get url() {
      return `smtp://127.0.0.1:${boundPort}`;
    },
    received,
    envelopes,
    /** Resolves once `count` emails have arrived in all. */
    receivedCount: waiting.until,
    listen,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Promises that resolve once `count()` reaches a number. */
function waiters(count: () => number) {
  const waiting: { at: number; resolve: () => void }[] = [];
  return {
    until(at: number) {
      return count() >= at ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ at, resolve }));
    },
    changed() {
      for (const waiter of waiting.filter((w) => count() >= w.at)) waiter.resolve();
    },
  };
}
