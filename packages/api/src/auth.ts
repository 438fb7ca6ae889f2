import { createPublicKey, createSecretKey } from "node:crypto";
import jwt from "jsonwebtoken";
import { DomainError } from "./errors.ts";
import { isPlainLine } from "./schemas.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/g;

export interface AuthConfig {
  /** HS256 shared secret. */
  secret?: string | undefined;
  /** RS256 public key (PEM); when set, only RS256 tokens are accepted. */
  publicKey?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

export interface AuthUser {
  id: string;
  name: string | null;
  /** When the token stops being valid (ms since epoch). */
  expiresAt: number;
  /** When the token was issued (s since epoch, the `iat` claim), for revocation. */
  issuedAt: number | null;
  /** `moderator` (the `role` claim) may use `moderation.*`; everyone else is a marketplace user. */
  role: "moderator" | null;
  /** Contact details from the `phone_number`/`phone` and `email` claims, for "share my contact". */
  phone: string | null;
  email: string | null;
}

export type VerifyToken = (token: string) => AuthUser;

/**
 * Verifies our bearer tokens: `sub` is the user id, `exp` is required. The algorithm list is
 * pinned to the one key type configured, so `none` and HS/RS confusion are rejected.
 */
export function createTokenVerifier(config: AuthConfig): VerifyToken {
  if (!config.publicKey && !config.secret) {
    throw new Error("Set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256) to verify tokens.");
  }
  // A key object built once: given a string, jsonwebtoken re-parses it on every call, which
  // made token checks a visible share of a connection's cost.
  const key = config.publicKey ? createPublicKey(config.publicKey) : createSecretKey(Buffer.from(config.secret ?? ""));
  const algorithms: jwt.Algorithm[] = config.publicKey ? ["RS256"] : ["HS256"];
  return (token) => {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, {
        algorithms,
        ...(config.issuer ? { issuer: config.issuer } : {}),
        ...(config.audience ? { audience: config.audience } : {}),
      });
    } catch (error) {
      const reason =
        error instanceof jwt.TokenExpiredError
          ? "Your session has expired; sign in again."
          : "Your token is not valid.";
      throw new DomainError("UNAUTHORIZED", reason);
    }
    if (
      typeof payload === "string" ||
      typeof payload.sub !== "string" ||
      payload.sub.length === 0 ||
      payload.sub.length > 100 ||
      !isPlainLine(payload.sub)
    ) {
      throw new DomainError("UNAUTHORIZED", "Your token does not name a user (`sub`).");
    }
    if (typeof payload.exp !== "number")
      throw new DomainError("UNAUTHORIZED", "Your token must have an expiry (`exp`).");
    // A display name is shown, never trusted: made well-formed, control characters dropped.
    const rawName = payload["name"];
    const name =
      typeof rawName === "string"
        ? rawName.toWellFormed().replace(CONTROL_CHARACTERS, "").trim().slice(0, 100) || null
        : null;
    const issuedAt = typeof payload.iat === "number" ? payload.iat : null;
    const role = payload["role"] === "moderator" ? "moderator" : null;
    const phone = contactClaim(payload["phone_number"] ?? payload["phone"], PHONE);
    const email = contactClaim(payload["email"], EMAIL);
    return { id: payload.sub, name, expiresAt: payload.exp * 1000, issuedAt, role, phone, email };
  };
}

const PHONE = /^\+?[0-9\u0660-\u0669 ().-]{5,32}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,63}$/;

/** A contact claim is shown to another person: only a well-formed phone number or address. */
function contactClaim(value: unknown, shape: RegExp): string | null {
  return typeof value === "string" && shape.test(value.trim()) ? value.trim() : null;
}

/** Signs an HS256 token that `config` accepts, for the demo and the `token` command. */
export function signToken(
  config: AuthConfig,
  user: { id: string; name?: string | null; role?: "moderator"; phone?: string; email?: string },
  expiresIn: jwt.SignOptions["expiresIn"] = "12h",
) {
  if (!config.secret) throw new Error("Signing tokens needs JWT_SECRET.");
  const claims = {
    ...(user.name ? { name: user.name } : {}),
    ...(user.role ? { role: user.role } : {}),
    ...(user.phone ? { phone_number: user.phone } : {}),
    ...(user.email ? { email: user.email } : {}),
  };
  return jwt.sign(claims, config.secret, {
    algorithm: "HS256",
    subject: user.id,
    expiresIn,
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  });
}

/** The token in an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}
