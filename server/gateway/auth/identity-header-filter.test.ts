import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createIdentityHeaderFilter } from "./identity-header-filter.js";
import { systemClock } from "../../shared/clock/clock.js";

/** A real server applying the filter and echoing the header it then sees. */
async function serve(trustedProxies: string[]) {
  const lines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
  let ignored = 0;
  const filter = createIdentityHeaderFilter({
    clock: systemClock,
    identityHeader: "x-forwarded-user",
    trustedProxies,
    log,
    onIgnored: () => ignored++,
  });
  const server = http.createServer((req, res) => {
    filter(req);
    res.end(String(req.headers["x-forwarded-user"] ?? "(none)"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const ask = (user: string, localAddress = "127.0.0.1") =>
    new Promise<string>((resolve, reject) => {
      const req = http.get(
        { host: "127.0.0.1", port, localAddress, headers: { "x-forwarded-user": user } },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
    });
  return { server, ask, lines, ignored: () => ignored };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe("createIdentityHeaderFilter", () => {
  it("keeps the header from a trusted proxy", async () => {
    const s = await serve(["127.0.0.1/32"]);
    close = () => (s.server.closeAllConnections(), s.server.close());
    expect(await s.ask("alice")).toBe("alice");
    expect(s.ignored()).toBe(0);
  });

  it("drops it from any other peer, logging once per peer", async () => {
    const s = await serve(["127.0.0.2/32", "fd00::/8"]);
    close = () => (s.server.closeAllConnections(), s.server.close());
    expect(await s.ask("mallory")).toBe("(none)");
    expect(await s.ask("mallory")).toBe("(none)");
    expect(await s.ask("alice", "127.0.0.2")).toBe("alice");
    expect(s.ignored()).toBe(2);
    expect(s.lines.filter((l) => l.includes("identity header from a peer")).length).toBe(1);
  });

  it("trusts nobody without --trusted-proxy", async () => {
    const s = await serve([]);
    close = () => (s.server.closeAllConnections(), s.server.close());
    expect(await s.ask("alice")).toBe("(none)");
  });
});
