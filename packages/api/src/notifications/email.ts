import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";

export interface EmailConfig {
  /** The `From` address. */
  from: string;
  /** `smtp://` or `smtps://`; without it emails are written to `outboxDir` as `.eml` files. */
  smtpUrl?: string | undefined;
  outboxDir: string;
  /** The address people open the chat at, for links in emails. */
  publicUrl: string;
  /** Signs one-click unsubscribe links. */
  unsubscribeSecret: string;
  /** How long an unsubscribe link works. */
  unsubscribeValidMs?: number | undefined;
}

export interface Email {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
  /** The same for every attempt at one digest, so a resend after an unclear failure can be recognised. */
  messageId: string;
}

/** An SMTP server that refused or could not be reached: the digest job retries with backoff. */
export class EmailUnavailableError extends Error {
  override name = "EmailUnavailableError";
}

/** Sends email over SMTP, or writes it to `outboxDir/*.eml` when no SMTP server is configured. */
export function createMailer(config: EmailConfig) {
  const transport = config.smtpUrl
    ? nodemailer.createTransport(config.smtpUrl, {
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      })
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });

  return {
    /** Where emails go, for the start banner. */
    destination: config.smtpUrl ? `SMTP ${new URL(config.smtpUrl).host}` : `${config.outboxDir}/*.eml`,

    async send(email: Email): Promise<void> {
      let info: unknown;
      try {
        info = await transport.sendMail({
          from: config.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          headers: email.headers ?? {},
          messageId: email.messageId,
        });
      } catch (error) {
        throw new EmailUnavailableError(`The email could not be sent: ${describe(error)}`, { cause: error });
      }
      if (!config.smtpUrl) {
        await mkdir(config.outboxDir, { recursive: true });
        const name = `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.eml`;
        await writeFile(join(config.outboxDir, name), (info as { message: Buffer }).message);
      }
    },

    close() {
      transport.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;

const DEFAULT_UNSUBSCRIBE_VALID_MS = 90 * 24 * 3600 * 1000;

/**
 * One-click unsubscribe tokens: the user id and an expiry, signed with HMAC-SHA256. Whoever
 * holds the link (the email's recipient) may switch that user's email off, and nothing else.
 */
export function createUnsubscribeLinks(
  config: Pick<EmailConfig, "publicUrl" | "unsubscribeSecret" | "unsubscribeValidMs">,
) {
  const validMs = config.unsubscribeValidMs ?? DEFAULT_UNSUBSCRIBE_VALID_MS;
  const sign = (body: string) => createHmac("sha256", config.unsubscribeSecret).update(body).digest("base64url");

  return {
    url(userId: string, now: Date): string {
      const body = `${Buffer.from(userId).toString("base64url")}.${Math.floor((now.getTime() + validMs) / 1000)}`;
      const url = new URL("/notifications/unsubscribe", config.publicUrl);
      url.searchParams.set("token", `${body}.${sign(body)}`);
      return url.toString();
    },

    /** The user the token unsubscribes, or why it does not. */
    verify(token: string, now: Date): { userId: string } | { problem: "invalid" | "expired" } {
      const [encodedUser, expires, signature, ...rest] = token.split(".");
      if (!encodedUser || !expires || !signature || rest.length > 0 || !/^\d+$/.test(expires)) {
        return { problem: "invalid" };
      }
      const expected = Buffer.from(sign(`${encodedUser}.${expires}`));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: "invalid" };
      if (Number(expires) * 1000 <= now.getTime()) return { problem: "expired" };
      return { userId: Buffer.from(encodedUser, "base64url").toString() };
    },
  };
}

export type UnsubscribeLinks = ReturnType<typeof createUnsubscribeLinks>;

function describe(error: unknown) {
  return error instanceof Error ? error.message : String(error);
}
