import { createHmac, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { bearerToken, createTokenVerifier, signToken } from "./auth.ts";

const secret = "a-secret-that-is-long-enough-for-hs256-tokens";
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;
const unauthorized = (message: string) => expect.objectContaining({ code: "UNAUTHORIZED", message });

describe("token verification", () => {
  it("accepts an HS256 token: sub is the user id, name optional", () => {
    const verify = createTokenVerifier({ secret });
    expect(verify(signToken({ secret }, { id: "sara", name: "Sara" }))).toMatchObject({ id: "sara", name: "Sara" });
    expect(verify(signToken({ secret }, { id: "omar" }))).toMatchObject({ id: "omar", name: null });
  });

  it("rejects tokens without a user or an expiry", () => {
    const verify = createTokenVerifier({ secret });
    expect(() => verify(jwt.sign({ exp: inOneHour() }, secret))).toThrow(
      unauthorized("Your token does not name a user (`sub`)."),
    );
    expect(() => verify(jwt.sign({ sub: "sara" }, secret))).toThrow(
      unauthorized("Your token must have an expiry (`exp`)."),
    );
  });

  it("rejects `alg: none`", () => {
    const verify = createTokenVerifier({ secret });
    const unsigned = jwt.sign({ sub: "sara", exp: inOneHour() }, "", { algorithm: "none" });
    expect(() => verify(unsigned)).toThrow(unauthorized("Your token is not valid."));
  });

  describe("with an RS256 public key", () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const verify = createTokenVerifier({ publicKey: publicPem });

    it("accepts tokens signed with the private key", () => {
      const token = jwt.sign({ sub: "sara", exp: inOneHour() }, privateKey, { algorithm: "RS256" });
      expect(verify(token)).toMatchObject({ id: "sara" });
    });

    it("rejects algorithm confusion: an HS256 token keyed with the public key", () => {
      // jsonwebtoken refuses to sign this way itself, so forge it by hand as an attacker would.
      const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
      const body = Buffer.from(JSON.stringify({ sub: "sara", exp: inOneHour() })).toString("base64url");
      const signature = createHmac("sha256", publicPem).update(`${header}.${body}`).digest("base64url");
      expect(() => verify(`${header}.${body}.${signature}`)).toThrow(unauthorized("Your token is not valid."));
    });

    it("rejects HS256 tokens altogether", () => {
      expect(() => verify(signToken({ secret }, { id: "sara" }))).toThrow(unauthorized("Your token is not valid."));
    });
  });

  it("checks issuer and audience when configured", () => {
    const config = { secret, issuer: "naafe-auth", audience: "naafe-chat" };
    const verify = createTokenVerifier(config);
    expect(verify(signToken(config, { id: "sara" }))).toMatchObject({ id: "sara" });
    const wrongIssuer = jwt.sign({ sub: "sara", exp: inOneHour() }, secret, {
      issuer: "other",
      audience: "naafe-chat",
    });
    const wrongAudience = jwt.sign({ sub: "sara", exp: inOneHour() }, secret, { issuer: "naafe-auth", audience: "x" });
    const neither = jwt.sign({ sub: "sara", exp: inOneHour() }, secret);
    for (const token of [wrongIssuer, wrongAudience, neither]) {
      expect(() => verify(token)).toThrow(unauthorized("Your token is not valid."));
    }
  });

  it("reads only well-formed Bearer headers", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
