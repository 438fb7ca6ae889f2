import { describe, expect, it } from "vitest";
import { closeCodes, createAdmission } from "./admission.ts";

const limits = {
  maxConnectionsPerUser: 2,
  maxConnectionsPerAddress: 3,
  maxUnauthenticated: 4,
  allowedOrigins: [],
  failedAuthPerMinute: 3,
};

describe("admission", () => {
  it("caps connections per address, and the unauthenticated ones from everyone", () => {
    const admission = createAdmission(limits);
    const slots = [1, 2, 3].map(() => admission.open("10.0.0.1"));
    expect(admission.open("10.0.0.1")).toBe("Too many connections from your address.");
    const other = admission.open("10.0.0.2");
    expect(admission.open("10.0.0.3")).toBe("The server is busy; try again in a moment.");
    // Signing in frees an unauthenticated place, not the address's.
    if (typeof other === "string") throw new Error(other);
    other.signedIn();
    expect(typeof admission.open("10.0.0.3")).toBe("object");
    const first = slots[0];
    if (typeof first === "string" || !first) throw new Error("refused");
    first.release();
    first.release(); // twice is once
    expect(typeof admission.open("10.0.0.1")).toBe("object");
    expect(admission.open("10.0.0.1")).toBe("Too many connections from your address.");
  });

  it("caps connections per user until one closes", () => {
    const admission = createAdmission(limits);
    const releases = [admission.signIn("sara"), admission.signIn("sara")];
    expect(admission.signIn("sara")).toBe("Too many open connections for this user; close a tab.");
    expect(admission.connectionsOf("sara")).toBe(2);
    const [release] = releases;
    if (typeof release === "string" || !release) throw new Error("refused");
    release();
    expect(typeof admission.signIn("sara")).toBe("function");
  });

  it("counts failed sign-ins per address over the last minute, and forgets old ones", () => {
    let now = 0;
    const admission = createAdmission(limits, () => now);
    for (let i = 0; i < 3; i++) admission.authFailed("10.0.0.1");
    admission.authFailed("10.0.0.2");
    expect(admission.blocked("10.0.0.1")).toBe(true);
    expect(admission.blocked("10.0.0.2")).toBe(false);
    expect(admission.rememberedAddresses()).toBe(2);
    now += 61_000;
    expect(admission.blocked("10.0.0.1")).toBe(false);
    admission.sweep();
    expect(admission.rememberedAddresses()).toBe(0);
  });

  it("revokes tokens issued up to the moment of revocation only", () => {
    let now = 1_000_000;
    const admission = createAdmission(limits, () => now);
    admission.revoke("sara");
    expect(admission.revoked({ id: "sara", issuedAt: 999 })).toBe(true);
    expect(admission.revoked({ id: "sara", issuedAt: 1_000 })).toBe(true);
    now += 2_000;
    expect(admission.revoked({ id: "sara", issuedAt: 1_001 })).toBe(false);
    expect(admission.revoked({ id: "omar", issuedAt: 1 })).toBe(false);
    expect(closeCodes.unauthorized).toBe(4401);
  });
});
