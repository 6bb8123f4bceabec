import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCidrMatcher, parseCidr } from "./cidr.js";

describe("parseCidr", () => {
  it("reads IPv4, IPv6 and bare addresses", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: 4 });
    expect(parseCidr("fd00::/8")).toEqual({ address: "fd00::", prefix: 8, family: 6 });
    expect(parseCidr("[::1]")).toEqual({ address: "::1", prefix: 128, family: 6 });
    expect(parseCidr(" 127.0.0.1 ")).toEqual({ address: "127.0.0.1", prefix: 32, family: 4 });
  });

  it("says what is wrong", () => {
    expect(() => parseCidr("10.0.0.0/33")).toThrow(/prefix length must be 0-32/);
    expect(() => parseCidr("::/129")).toThrow(/0-128/);
    expect(() => parseCidr("10.0.0.0/")).toThrow(/prefix/);
    expect(() => parseCidr("10.0.0.0/-1")).toThrow(/prefix/);
    expect(() => parseCidr("proxy.internal/32")).toThrow(/not an IP address/);
    expect(() => parseCidr("256.0.0.1")).toThrow(/not an IP address/);
    expect(() => parseCidr("")).toThrow(/not an IP address/);
  });
});

describe("createCidrMatcher", () => {
  it("matches IPv4 ranges at their edges", () => {
    const inside = createCidrMatcher(["10.1.0.0/16", "192.168.5.7"]);
    const yes = ["10.1.0.0", "10.1.255.255", "192.168.5.7"];
    const no = ["10.2.0.0", "10.0.255.255", "192.168.5.8"];
    expect([...yes, ...no].filter(inside)).toEqual(yes);
  });

  it("matches IPv6 ranges and IPv4-mapped IPv6 peers", () => {
    const inside = createCidrMatcher(["fd00:1::/32", "127.0.0.0/8"]);
    const peers = ["fd00:1:ffff::1", "fd00:2::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::1"];
    expect(peers.filter(inside)).toEqual(["fd00:1:ffff::1", "::ffff:127.0.0.1"]);
  });

  it("trusts no one when empty, and never a non-address", () => {
    expect(createCidrMatcher([])("127.0.0.1")).toBe(false);
    const all = createCidrMatcher(["0.0.0.0/0", "::/0"]);
    expect([undefined, "not-an-ip", "8.8.8.8", "2001:db8::1"].filter(all)).toEqual([
      "8.8.8.8",
      "2001:db8::1",
    ]);
  });

  it("agrees with arithmetic on random IPv4 ranges", () => {
    const toInt = (a: number[]) => a.reduce((n, b) => n * 256 + b, 0);
    const octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(octets, fc.integer({ min: 0, max: 32 }), octets, (net, prefix, peer) => {
        const matcher = createCidrMatcher([`${net.join(".")}/${prefix}`]);
        const block = 2 ** (32 - prefix);
        const expected = Math.floor(toInt(net) / block) === Math.floor(toInt(peer) / block);
        return matcher(peer.join(".")) === expected;
      }),
      { numRuns: 500 },
    );
  });
});
