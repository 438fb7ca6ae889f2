import type { IncomingMessage } from "node:http";

/** Close codes a client can act on (4000–4999 are ours by RFC 6455). */
export const closeCodes = {
  /** Bad, missing, expired or revoked token: sign in again, don't retry as is. */
  unauthorized: 4401,
  /** Too many connections, subscriptions or failed sign-ins: back off. */
  tooMany: 4429,
  /** The client read too slowly; reconnect and catch up. */
  slowConsumer: 4408,
  /** The server is restarting (RFC 6455 "service restart"): reconnect and catch up. */
  restart: 1012,
} as const;

export interface AdmissionLimits {
  /** Open WebSocket connections one user may hold (tabs and devices). */
  maxConnectionsPerUser: number;
  /** Open WebSocket connections from one client address, signed in or not. */
  maxConnectionsPerAddress: number;
  /** Connections that have not presented a valid token yet, from everyone together. */
  maxUnauthenticated: number;
  /** Origins allowed to open WebSockets; empty means the server's own origin only. */
  allowedOrigins: string[];
  /** Failed sign-ins one address may make per minute before its bad tokens are refused unchecked. */
  failedAuthPerMinute: number;
}

/** How many addresses' failures are remembered at most; the oldest go first. */
const FAILURES_REMEMBERED = 100_000;
const MINUTE = 60_000;

/**
 * Who may hold a connection, in numbers: per user, per address, unauthenticated in total;
 * failed sign-ins per address; sign-outs. Pure bookkeeping: the transport asks and closes.
 */
export function createAdmission(limits: AdmissionLimits, now = () => Date.now()) {
  const byUser = new Map<string, number>();
  const byAddress = new Map<string, number>();
  let unauthenticated = 0;
  const revokedBefore = new Map<string, number>();
  /** Per address, the times of its failed sign-ins in the last minute, oldest first. */
  const failures = new Map<string, number[]>();

  const count = (map: Map<string, number>, key: string, delta: number) => {
    const next = (map.get(key) ?? 0) + delta;
    if (next > 0) map.set(key, next);
    else map.delete(key);
  };

  function recentFailures(address: string): number[] {
    const list = failures.get(address);
    if (!list) return [];
    const since = now() - MINUTE;
    while (list.length > 0 && (list[0] ?? 0) <= since) list.shift();
    if (list.length === 0) failures.delete(address);
    return list;
  }

  return {
    /** Same-origin by default: a page elsewhere must not ride on a user's tokens. */
    originAllowed(req: IncomingMessage): boolean {
      const origin = req.headers.origin;
      if (!origin) return true; // not a browser: no ambient credentials to abuse
      if (limits.allowedOrigins.includes(origin)) return true;
      try {
        return new URL(origin).host === req.headers.host;
      } catch {
        return false;
      }
    },

    /** A new connection from `address`, not signed in yet: a slot to release when it closes, or why not. */
    open(address: string): ConnectionSlot | string {
      if ((byAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress)
        return "Too many connections from your address.";
      if (unauthenticated >= limits.maxUnauthenticated) return "The server is busy; try again in a moment.";
      count(byAddress, address, 1);
      unauthenticated++;
      let state: "anonymous" | "signed in" | "closed" = "anonymous";
      return {
        signedIn() {
          if (state === "anonymous") unauthenticated--;
          if (state !== "closed") state = "signed in";
        },
        release() {
          if (state === "closed") return;
          if (state === "anonymous") unauthenticated--;
          count(byAddress, address, -1);
          state = "closed";
        },
      };
    },

    /** The connection signed in as `userId`; a refusal reason, or a function that releases the user's slot. */
    signIn(userId: string): string | (() => void) {
      if ((byUser.get(userId) ?? 0) >= limits.maxConnectionsPerUser)
        return "Too many open connections for this user; close a tab.";
      count(byUser, userId, 1);
      let held = true;
      return () => {
        if (held) count(byUser, userId, -1);
        held = false;
      };
    },

    /** Whether `address` failed to sign in too often in the last minute. */
    blocked(address: string): boolean {
      return recentFailures(address).length >= limits.failedAuthPerMinute;
    },

    authFailed(address: string) {
      const list = recentFailures(address);
      list.push(now());
      failures.delete(address); // re-inserted last: the map's order is least recently failed first
      failures.set(address, list);
      if (failures.size > FAILURES_REMEMBERED) failures.delete(failures.keys().next().value as string);
    },

    /** Forgets the addresses whose failures are all older than a minute. */
    sweep() {
      for (const address of [...failures.keys()]) recentFailures(address);
    },

    /** Whether the user was signed out after this token was issued. */
    revoked(user: { id: string; issuedAt: number | null }): boolean {
      const revokedAt = revokedBefore.get(user.id);
      return revokedAt !== undefined && (user.issuedAt ?? 0) <= revokedAt;
    },

    /** Refuses the user's tokens issued until now. */
    revoke(userId: string) {
      revokedBefore.set(userId, Math.floor(now() / 1000));
    },

    connectionsOf: (userId: string) => byUser.get(userId) ?? 0,
    rememberedAddresses: () => failures.size,
  };
}

export type Admission = ReturnType<typeof createAdmission>;

export interface ConnectionSlot {
  signedIn(): void;
  release(): void;
}
