/**
 * Rendezvous (highest-random-weight) hashing: every gateway computes the same
 * owner for a key from the same member list, with no coordination, and when
 * a member joins or leaves only the keys it wins or held move (about 1/N).
 */

/** 32-bit FNV-1a over both strings, then murmur3's finaliser for avalanche. */
function score(member: string, key: string): number {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  mix(member);
  h ^= 0xff; // separator: ("ab","c") and ("a","bc") differ
  h = Math.imul(h, 0x01000193);
  mix(key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The member that owns `key`, or undefined when there are no members. Ties go to the smaller id. */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const s = score(m, key);
    if (s > bestScore || (s === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** The keys of `keys` that `self` owns among `members`. */
export function ownedBy(
  self: string,
  keys: Iterable<string>,
  members: readonly string[],
): Set<string> {
  const out = new Set<string>();
  for (const k of keys) if (rendezvousOwner(k, members) === self) out.add(k);
  return out;
}
