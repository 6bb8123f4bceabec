import { describe, expect, it } from "vitest";
import { formatHostPort, isLoopbackHost, isWildcardHost, parseHostPort } from "./host-port.js";

describe("parseHostPort", () => {
  it("parses IPv4, names and bracketed IPv6", () => {
    expect(parseHostPort("127.0.0.1:8081")).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(parseHostPort("localhost:1")).toEqual({ host: "localhost", port: 1 });
    expect(parseHostPort("[::1]:65535")).toEqual({ host: "::1", port: 65535 });
  });

  it("rejects malformed addresses with a message naming the input", () => {
    for (const bad of ["", "127.0.0.1", ":80", "host:", "host:abc", "::1:80", "h:99999", "a b:1"]) {
      expect(() => parseHostPort(bad)).toThrow(/HOST:PORT|port must be/);
    }
  });

  it("allows port 0 only for listeners", () => {
    expect(() => parseHostPort("127.0.0.1:0")).toThrow(/port must be 1-65535/);
    expect(parseHostPort("127.0.0.1:0", { allowZero: true }).port).toBe(0);
  });

  it.each([
    ["::1", "[::1]:80"],
    ["127.0.0.1", "127.0.0.1:80"],
  ])("formats %s back, bracketing IPv6", (host, text) => {
    expect(formatHostPort({ host, port: 80 })).toBe(text);
  });

  it.each([
    ["127.3.2.1", true, false],
    ["::1", true, false],
    ["::ffff:127.0.0.1", true, false],
    ["0.0.0.0", false, true],
    ["::", false, true],
    ["10.0.0.1", false, false],
    ["127.0.0.1", true, false],
  ])("knows whether %s is a loopback (%s) or a wildcard (%s) host", (host, loopback, wildcard) => {
    expect(isLoopbackHost(host)).toBe(loopback);
    expect(isWildcardHost(host)).toBe(wildcard);
  });
});
