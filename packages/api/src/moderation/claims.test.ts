import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { createTokenVerifier, signToken } from "../auth.ts";

const secret = "claims-test-secret-long-enough-for-hs256";
const verify = createTokenVerifier({ secret });
const sign = (claims: Record<string, unknown>) =>
  jwt.sign({ sub: "omar", exp: Math.floor(Date.now() / 1000) + 60, ...claims }, secret, { algorithm: "HS256" });

describe("moderation claims", () => {
  it("reads role: moderator, and nothing else, as the moderator role", () => {
    expect(verify(signToken({ secret }, { id: "mod", role: "moderator" })).role).toBe("moderator");
    expect(verify(sign({ role: "admin" })).role).toBeNull();
    expect(verify(sign({ role: ["moderator"] })).role).toBeNull();
    expect(verify(sign({})).role).toBeNull();
  });

  it("keeps well-formed phone and email claims for Share contact, and drops anything else", () => {
    expect(verify(sign({ phone_number: "+20 100 123 4567", email: "omar@example.com" }))).toMatchObject({
      phone: "+20 100 123 4567",
      email: "omar@example.com",
    });
    expect(verify(sign({ phone: "٠١٠٠١٢٣٤٥٦٧" })).phone).toBe("٠١٠٠١٢٣٤٥٦٧");
    expect(verify(sign({ phone_number: "<script>alert(1)</script>", email: "not an email" }))).toMatchObject({
      phone: null,
      email: null,
    });
    expect(verify(sign({ phone_number: 201001234567, email: { x: 1 } }))).toMatchObject({ phone: null, email: null });
  });
});
