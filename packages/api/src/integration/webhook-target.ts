import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Where webhooks may go. The server must not be usable to reach internal addresses: only HTTPS
 * to public unicast addresses, checked for literal addresses when the URL is configured and for
 * host names at connect time (`publicOnlyLookup`), so a name that resolves to a public address
 * when checked and to 127.0.0.1 when connecting (DNS rebinding) is still refused. `allowPrivate`
 * (development and tests only) lifts both rules.
 */
export interface TargetPolicy {
  allowPrivate: boolean;
}

/** Why `url` may not receive webhooks, or null when it may. */
export function webhookUrlProblem(url: string, { allowPrivate }: TargetPolicy): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.username || parsed.password) return "must not carry credentials";
  if (allowPrivate) return parsed.protocol === "https:" || parsed.protocol === "http:" ? null : "must be http(s)";
  if (parsed.protocol !== "https:") return "must be an https:// URL";
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) && !isPublicAddress(host)) return `points at a non-public address (${host})`;
  if (host === "localhost" || host.endsWith(".localhost")) return "points at this machine";
  return null;
}

/** Public unicast only: not loopback, private, link-local (169.254/16, cloud metadata), CGNAT, multicast, … */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === "unicast";
}

export class PrivateAddressError extends Error {
  override name = "PrivateAddressError";
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `dns.lookup` for an HTTP agent that refuses every non-public address the name resolves to,
 * at the moment of connecting.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "");
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused) {
      return callback(new PrivateAddressError(`${hostname} resolves to a non-public address (${refused.address})`), "");
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    if (!first) return callback(new PrivateAddressError(`${hostname} has no address`), "");
    callback(null, first.address, first.family);
  });
}
