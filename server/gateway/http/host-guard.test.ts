import { describe, expect, it } from "vitest";
import { createHostGuard, parseAllowedHost } from "./host-guard.js";

describe("createHostGuard", () => {
  const loopback = createHostGuard({ host: "127.0.0.1", port: 8080 }, { allowedHosts: [] });

  it("allows the bound address and the localhost names with the bound port", () => {
    for (const host of ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"])
      expect(loopback(host), host).toBe(true);
  });

  it("compares canonical forms, so odd spellings of loopback still pass", () => {
    for (const host of ["[0:0:0:0:0:0:0:1]:8080", "2130706433:8080"])
      expect(loopback(host), host).toBe(true);
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

  it("adds --allowed-host entries, with or without a port", () => {
    const guard = createHostGuard(
      { host: "127.0.0.1", port: 8080 },
      { allowedHosts: ["stallwatch.example.com", "proxy.internal:9000", "[fd00::5]:8080"] },
    );
    const allowed = ["stallwatch.example.com", "Stallwatch.Example.com:443", "proxy.internal:9000"];
    const refused = ["proxy.internal:9001", "evil.stallwatch.example.com"];
    expect([...allowed, ...refused, "[fd00::5]:8080"].filter(guard)).toEqual([
      ...allowed,
      "[fd00::5]:8080",
    ]);
  });

  it("allows the interface addresses when bound to a wildcard, and a named bind address", () => {
    const wildcard = createHostGuard(
      { host: "0.0.0.0", port: 8080 },
      { allowedHosts: [], wildcardAddresses: () => ["10.1.2.3", "fe80::1"] },
    );
    const interfaces = ["10.1.2.3:8080", "[fe80::1]:8080"];
    expect([...interfaces, "0.0.0.0:8080", "10.1.2.4:8080"].filter(wildcard)).toEqual(interfaces);
    const named = createHostGuard({ host: "10.9.9.9", port: 80 }, { allowedHosts: [] });
    expect(["10.9.9.9", "localhost", "10.9.9.8"].filter(named)).toEqual(["10.9.9.9", "localhost"]);
  });
});

describe("parseAllowedHost", () => {
  it("canonicalises valid entries and explains invalid ones", () => {
    expect(parseAllowedHost("Example.COM")).toBe("example.com");
    expect(parseAllowedHost("example.com:8443")).toBe("example.com:8443");
    expect(parseAllowedHost("[::1]:80")).toBe("[::1]:80");
    expect(() => parseAllowedHost("https://example.com")).toThrow(/is not a host name/);
    expect(() => parseAllowedHost("a b")).toThrow(/is not a host name/);
  });
});
