import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Addresses a webhook may not reach unless `--notify-allow-private` says so:
 * loopback, link-local (which holds the cloud metadata service
 * 169.254.169.254), unspecified, and the other metadata endpoints
 * (AWS IPv6 fd00:ec2::254, Alibaba 100.100.100.200). A notification target
 * comes from configuration, but a URL that resolves there would let whoever
 * controls DNS (or the config) read the gateway's own services.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet("127.0.0.0", 8, "ipv4");
FORBIDDEN.addSubnet("169.254.0.0", 16, "ipv4");
FORBIDDEN.addSubnet("0.0.0.0", 8, "ipv4");
FORBIDDEN.addAddress("100.100.100.200", "ipv4");
FORBIDDEN.addAddress("::1", "ipv6");
FORBIDDEN.addAddress("::", "ipv6");
FORBIDDEN.addSubnet("fe80::", 10, "ipv6");
FORBIDDEN.addAddress("fd00:ec2::254", "ipv6");

/** True when `ip` is loopback, link-local, unspecified or a metadata address. */
export function isForbiddenAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return FORBIDDEN.check(ip, "ipv4");
  if (family !== 6) return true;
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address in disguise.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return FORBIDDEN.check(mapped, "ipv4");
  return FORBIDDEN.check(ip, "ipv6");
}

/** Where a request goes: the address checked, pinned for the connection. */
export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the webhook's host now and checks every address it resolves to
 * (a name with one safe and one forbidden address is refused: the resolver
 * could hand out either). The caller connects to the returned address, so a
 * second lookup cannot swap it (DNS rebinding).
 */
export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await lookup(host, { all: true, verbatim: true });
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad)
      throw new Error(
        `${host} resolves to ${bad.address} (loopback, link-local or metadata): refused without --notify-allow-private`,
      );
  }
  const first = addresses[0];
  if (!first) throw new Error(`${host} resolves to no address`);
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
