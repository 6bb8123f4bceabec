import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { ProfileSchema, type Profile } from "../../../gen/stallwatch/v1/profile_pb.js";
import {
  MAX_SNAPSHOT_PROFILE_BYTES,
  MAX_SNAPSHOT_PROFILES,
  newestEndedFirst,
  profilesForSnapshot,
  profilesForView,
} from "./snapshot-profiles.js";

const profile = (profileId: string, workerId: string, status = ActionStatus.SUCCEEDED, note = "") =>
  create(ProfileSchema, {
    profileId,
    workerId,
    status,
    result: { threads: [{ threadId: "t", note }] },
  });
const ids = (ps: Profile[]) => ps.map((p) => p.profileId);
const everyone = () => true;

describe("profilesForSnapshot", () => {
  it("keeps each worker's newest ended profile, never a running one, only workers in scope", () => {
    const book = [
      profile("w1-running", "w1", ActionStatus.RUNNING),
      profile("w1-new", "w1"),
      profile("w2-failed-partial", "w2", ActionStatus.FAILED),
      profile("w1-old", "w1"),
      profile("w3", "w3"),
    ];
    expect(ids(profilesForSnapshot(book, everyone))).toEqual(["w1-new", "w2-failed-partial", "w3"]);
    expect(ids(profilesForSnapshot(book, (id) => id === "w1"))).toEqual(["w1-new"]);
  });

  it("stops at the count cap and leaves out results past the byte budget", () => {
    const many = Array.from({ length: 25 }, (_, i) => profile(`p${i}`, `w${i}`));
    expect(profilesForSnapshot(many, everyone)).toHaveLength(MAX_SNAPSHOT_PROFILES);
    // Each result ~3 MiB: two fit in 8 MiB, the third does not.
    const big = (id: string) => profile(id, id, ActionStatus.SUCCEEDED, "x".repeat(3 << 20));
    expect(ids(profilesForSnapshot([big("a"), big("b"), big("c")], everyone))).toEqual(["a", "b"]);
    expect(3 * (3 << 20)).toBeGreaterThan(MAX_SNAPSHOT_PROFILE_BYTES);
  });
});

describe("profilesForView", () => {
  const kept = [profile("a", "w1"), profile("b", "w2")];
  it("gives a worker's permalink its profiles whole and the fleet summary no results", () => {
    expect(ids(profilesForView(kept, { workerId: "w2" }))).toEqual(["b"]);
    expect(profilesForView(kept, { workerId: "w2" })[0]?.result).toBeDefined();
    const summary = profilesForView(kept, { summary: true });
    expect(ids(summary)).toEqual(["a", "b"]);
    expect(summary.every((p) => p.result === undefined)).toBe(true);
    expect(kept[0]?.result).toBeDefined();
  });
});

describe("newestEndedFirst", () => {
  it("merges this gateway's book with peers' shards: newest ended first, each profile once", () => {
    const at = (id: string, worker: string, endedAtMs: number) => ({
      ...profile(id, worker),
      endedAtMs: BigInt(endedAtMs),
    });
    const local = [at("here-new", "w1", 300), at("here-old", "w2", 100)];
    const shard = [at("peer", "w2", 200), at("here-new", "w1", 300)];
    const merged = newestEndedFirst(local, shard);
    expect(ids(merged)).toEqual(["here-new", "peer", "here-old"]);
    // The worker that moved between gateways keeps its newest profile, from the peer.
    expect(ids(profilesForSnapshot(merged, everyone))).toEqual(["here-new", "peer"]);
  });
});
