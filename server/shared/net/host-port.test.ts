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

  it("formats back, bracketing IPv6", () => {
    expect(formatHostPort({ host: "::1", port: 80 })).toBe("[::1]:80");
    expect(formatHostPort({ host: "127.0.0.1", port: 80 })).toBe("127.0.0.1:80");
  });

  it("knows loopback hosts", () => {
    const hosts = ["127.3.2.1", "::1", "0.0.0.0", "10.0.0.1", "::ffff:127.0.0.1"];
    expect(hosts.filter(isLoopbackHost)).toEqual(["127.3.2.1", "::1", "::ffff:127.0.0.1"]);
  });

  it("knows wildcard hosts", () => {
    expect(["0.0.0.0", "::", "127.0.0.1"].filter(isWildcardHost)).toEqual(["0.0.0.0", "::"]);
  });
});
