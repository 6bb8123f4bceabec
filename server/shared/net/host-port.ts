/** A parsed `HOST:PORT` (IPv6 hosts in brackets: `[::1]:8081`). */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `HOST:PORT`, throwing an Error whose message says what is wrong.
 * Port 0 is allowed only when `allowZero` is set (listeners, not targets).
 */
export function parseHostPort(text: string, { allowZero = false } = {}): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) {
    throw new Error(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:7070 or [::1]:7070)`);
  }
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65535 || (port === 0 && !allowZero)) {
    throw new Error(`"${text}": port must be ${allowZero ? "0" : "1"}-65535`);
  }
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for 127.0.0.0/8 (also IPv4-mapped), ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("::ffff:") ? host.slice(7) : host;
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** True for the "any address" hosts a listener binds but nobody can dial: 0.0.0.0, ::, [::]. */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]" || host === "0:0:0:0:0:0:0:0";
}
