import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCidrMatcher, parseCidr } from "./cidr.js";

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", { address: "10.0.0.0", prefix: 8, family: 4 }],
    ["fd00::/8", { address: "fd00::", prefix: 8, family: 6 }],
    ["[::1]", { address: "::1", prefix: 128, family: 6 }],
    [" 127.0.0.1 ", { address: "127.0.0.1", prefix: 32, family: 4 }],
  ])("reads IPv4, IPv6 and bare addresses: %j", (text, parsed) => {
    expect(parseCidr(text)).toEqual(parsed);
  });

  it.each([
    ["10.0.0.0/33", /prefix length must be 0-32/],
    ["::/129", /0-128/],
    ["10.0.0.0/", /prefix/],
    ["10.0.0.0/-1", /prefix/],
    ["proxy.internal/32", /not an IP address/],
    ["256.0.0.1", /not an IP address/],
    ["", /not an IP address/],
  ])("says what is wrong with %j", (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });
});

describe("createCidrMatcher", () => {
  /** Ranges, then peers and whether each is inside them. */
  it.each<[string, string[], [string | undefined, boolean][]]>([
    [
      "IPv4 ranges at their edges",
      ["10.1.0.0/16", "192.168.5.7"],
      [
        ["10.1.0.0", true],
        ["10.1.255.255", true],
        ["10.2.0.0", false],
        ["10.0.255.255", false],
        ["192.168.5.7", true],
        ["192.168.5.8", false],
      ],
    ],
    [
      "IPv6 ranges and IPv4-mapped IPv6 peers",
      ["fd00:1::/32", "127.0.0.0/8"],
      [
        ["fd00:1:ffff::1", true],
        ["fd00:2::1", false],
        ["::ffff:127.0.0.1", true],
        ["::ffff:10.0.0.1", false],
        ["::1", false],
      ],
    ],
    ["no one when empty", [], [["127.0.0.1", false]]],
    [
      "never a non-address",
      ["0.0.0.0/0", "::/0"],
      [
        [undefined, false],
        ["not-an-ip", false],
        ["8.8.8.8", true],
        ["2001:db8::1", true],
      ],
    ],
  ])("matches %s", (_what, ranges, peers) => {
    const inside = createCidrMatcher(ranges);
    for (const [peer, expected] of peers) expect(inside(peer), String(peer)).toBe(expected);
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
