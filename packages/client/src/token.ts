/**
 * When a JWT expires (ms since epoch), read from its `exp` claim without verifying it: only to
 * know when to ask for a fresh one. Null when it is not a JWT or has no expiry.
 */
export function tokenExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const { exp } = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="))) as { exp?: unknown };
    return typeof exp === "number" ? exp * 1_000 : null;
  } catch {
    return null;
  }
}
