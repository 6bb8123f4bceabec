import { describe, expect, it } from "vitest";
import { ownedBy, rendezvousOwner } from "./rendezvous.js";

const keys = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:7070`);

describe("rendezvous hashing", () => {
  it("gives every key exactly one owner, the same whatever the members' order", () => {
    const members = ["gw-a", "gw-b", "gw-c"];
    const shares = members.map((m) => ownedBy(m, keys, members));
    expect(shares.reduce((n, s) => n + s.size, 0)).toBe(keys.length);
    for (const k of keys)
      expect(rendezvousOwner(k, [...members].reverse())).toBe(rendezvousOwner(k, members));
    // Spread evenly enough: each of 3 within 25% of a third.
    for (const s of shares) expect(Math.abs(s.size - 1000)).toBeLessThan(250);
  });

  it("moves only the keys of a member that leaves, and only to survivors", () => {
    const before = ["gw-a", "gw-b", "gw-c"];
    const after = ["gw-a", "gw-c"];
    let moved = 0;
    for (const k of keys) {
      const was = rendezvousOwner(k, before);
      const now = rendezvousOwner(k, after);
      if (was !== "gw-b") expect(now).toBe(was);
      else moved++;
    }
    expect(moved).toBe(ownedBy("gw-b", keys, before).size);
  });

  it("has no owner without members", () => {
    expect(rendezvousOwner("x", [])).toBeUndefined();
  });
});
