import { describe, expect, it } from "vitest";
import { createHostGuard, parseAllowedHost } from "./host-guard.js";

describe("createHostGuard", () => {
  const loopback = createHostGuard({ host: "127.0.0.1", port: 8080 }, { allowedHosts: [] });

  it("allows the bound address and the localhost names with the bound port", () => {
    for (const host of ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"])
      expect(loopback(host), host).toBe(true);
  });

  it("compares canonical forms, so odd spellings of loopback still pass", () => {
    expect(loopback("[0:0:0:0:0:0:0:1]:8080")).toBe(true);
    expect(loopback("2130706433:8080")).toBe(true);
  });

  it("refuses foreign names, other ports, junk and a missing Host", () => {
    for (const host of [
      "evil.test:8080",
      "evil.test",
      "localhost:8081",
      "localhost",
      "127.0.0.1:80",
      "localhost.:8080",
      "evil.test@localhost:8080",
      "localhost:8080/x",
      "local host:8080",
      "x".repeat(400),
      "",
    ])
      expect(loopback(host), host).toBe(false);
    expect(loopback(undefined)).toBe(false);
  });

  it.each<[string, Parameters<typeof createHostGuard>, [string, boolean][]]>([
    [
      "adds --allowed-host entries, with or without a port",
      [
        { host: "127.0.0.1", port: 8080 },
        { allowedHosts: ["stallwatch.example.com", "proxy.internal:9000", "[fd00::5]:8080"] },
      ],
      [
        ["stallwatch.example.com", true],
        ["Stallwatch.Example.com:443", true],
        ["proxy.internal:9000", true],
        ["proxy.internal:9001", false],
        ["[fd00::5]:8080", true],
        ["evil.stallwatch.example.com", false],
      ],
    ],
    [
      "allows the interface addresses when bound to a wildcard",
      [
        { host: "0.0.0.0", port: 8080 },
        { allowedHosts: [], wildcardAddresses: () => ["10.1.2.3", "fe80::1"] },
      ],
      [
        ["10.1.2.3:8080", true],
        ["[fe80::1]:8080", true],
        ["0.0.0.0:8080", false],
        ["10.1.2.4:8080", false],
      ],
    ],
    [
      "allows a named bind address",
      [{ host: "10.9.9.9", port: 80 }, { allowedHosts: [] }],
      [
        ["10.9.9.9", true],
        ["localhost", true],
        ["10.9.9.8", false],
      ],
    ],
  ])("%s", (_what, settings, hosts) => {
    const guard = createHostGuard(...settings);
    for (const [host, expected] of hosts) expect(guard(host), host).toBe(expected);
  });
});

describe("parseAllowedHost", () => {
  it.each([
    ["Example.COM", "example.com"],
    ["example.com:8443", "example.com:8443"],
    ["[::1]:80", "[::1]:80"],
  ])("canonicalises %j", (entry, canonical) => {
    expect(parseAllowedHost(entry)).toBe(canonical);
  });

  it.each(["https://example.com", "a b"])("explains why %j is invalid", (entry) => {
    expect(() => parseAllowedHost(entry)).toThrow(/is not a host name/);
  });
});
