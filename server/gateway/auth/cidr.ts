import { BlockList, isIP } from "node:net";

/**
 * Parses `ADDR/PREFIX` (or a bare address, meaning one host) for IPv4 and
 * IPv6, throwing an Error that says what is wrong. Returns the normalised
 * text form (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1/32`).
 */
export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const address = (slash === -1 ? trimmed : trimmed.slice(0, slash)).replace(/^\[|\]$/g, "");
  const family = isIP(address);
  if (family !== 4 && family !== 6) {
    throw new Error(`"${text}" is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
  }
  const max = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new Error(`"${text}": the prefix length must be 0-${max}`);
  }
  return { address, prefix: Number(prefixText), family };
}

/**
 * A set of CIDR ranges answering "is this peer address inside?". Built on
 * node's `BlockList`, which compares bits (no string tricks) and matches
 * IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`, what a dual-stack socket
 * reports) against IPv4 ranges. Invalid ranges throw (see `parseCidr`).
 */
export function createCidrMatcher(
  cidrs: readonly string[],
): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { address, prefix, family } = parseCidr(cidr);
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  if (cidrs.length === 0) return () => false;
  return (peer) => {
    if (!peer) return false;
    const family = isIP(peer);
    if (family === 0) return false;
    return list.check(peer, family === 4 ? "ipv4" : "ipv6");
  };
}
