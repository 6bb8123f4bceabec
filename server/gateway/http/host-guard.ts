import { networkInterfaces } from "node:os";
import { formatHostPort, type HostPort } from "../../shared/net/host-port.js";

/** A `Host` value reduced to its canonical name and port. */
interface HostName {
  name: string;
  /** Undefined in an `--allowed-host` entry without a port: any port. */
  port: number | undefined;
}

/** Characters a Host header may hold; anything else (`@`, `/`, spaces) is refused unparsed. */
const HOST_CHARS = /^[A-Za-z0-9._:[\]-]{1,300}$/;

/**
 * Canonicalises `name[:port]` with the WHATWG URL parser, so `LOCALHOST`,
 * `[0:0::1]` or `0x7f.1` compare equal to the forms we allow. Undefined for
 * anything that is not a plain host (userinfo, paths, junk).
 */
function canonicalHost(text: string): HostName | undefined {
  if (!HOST_CHARS.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${text}/`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.pathname !== "/" || url.hostname === "") return undefined;
  const explicitPort = /:\d+$/.test(text);
  return { name: url.hostname, port: explicitPort ? Number(url.port || 80) : undefined };
}

/**
 * Validates an `--allowed-host` entry (`name`, `name:port`, `[v6]:port`),
 * throwing an Error that says what is wrong. Returns the canonical form.
 */
export function parseAllowedHost(text: string): string {
  const host = canonicalHost(text.trim());
  if (!host)
    throw new Error(`"${text}" is not a host name (e.g. stallwatch.example.com or host:8080)`);
  return host.port === undefined ? host.name : `${host.name}:${host.port}`;
}

/**
 * The machine's interface addresses: what a wildcard-bound listener answers
 * on (a Kubernetes probe's `Host` is the pod IP). Read once, when bound.
 */
function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export interface HostGuardOptions {
  /** `--allowed-host` entries: `name` (any port) or `name:port`. */
  allowedHosts: readonly string[];
  /** Addresses served when bound to a wildcard (default: the interfaces'). */
  wildcardAddresses?: () => string[];
}

/**
 * DNS-rebinding protection: a browser tricked into calling us under a
 * foreign name (`evil.test` resolving to 127.0.0.1) still sends that name in
 * `Host`, so `Host` must be one of ours before `Origin` means anything. Ours
 * are the bound address (every interface address when bound to a wildcard)
 * and the localhost names, with the bound port, plus `--allowed-host`.
 * Returns a predicate over the raw `Host` header.
 */
export function createHostGuard(
  bound: HostPort,
  { allowedHosts, wildcardAddresses = interfaceAddresses }: HostGuardOptions,
): (host: string | undefined) => boolean {
  const wildcard = bound.host === "0.0.0.0" || bound.host === "::";
  const ownNames = [
    "localhost",
    "127.0.0.1",
    "::1",
    ...(wildcard ? wildcardAddresses() : [bound.host]),
  ];
  const exact = new Set<string>();
  const anyPort = new Set<string>();
  for (const name of ownNames) {
    const host = canonicalHost(formatHostPort({ host: name, port: bound.port }));
    if (host) exact.add(`${host.name}:${bound.port}`);
  }
  for (const entry of allowedHosts) {
    const host = canonicalHost(entry);
    if (!host) continue; // validated at start (parseAllowedHost)
    if (host.port === undefined) anyPort.add(host.name);
    else exact.add(`${host.name}:${host.port}`);
  }
  return (header) => {
    if (header === undefined) return false;
    const host = canonicalHost(header);
    if (!host) return false;
    return anyPort.has(host.name) || exact.has(`${host.name}:${host.port ?? 80}`);
  };
}
