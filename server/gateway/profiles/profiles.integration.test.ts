import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileMode, type ProfileResult } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionKind, ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { ProfileSource } from "../../../gen/stallwatch/v1/profile_pb.js";
import type { Profile } from "../../../gen/stallwatch/v1/profile_pb.js";
import { engineSays } from "../../engine/execute-driver.js";
import { apiClients } from "../../testing/api-clients.js";
import { waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { arrowBatch, clientsFor, openSession } from "../../testing/protocol-fixtures.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent, type TestWorker } from "../../testing/test-worker.js";
import { startTestHarness } from "../beam-text/testing/fixture-harness.js";

const TOKEN = "profiles-operator-token-22";
const codeOf = (err: unknown) => ConnectError.from(err).code;

/** Share of a thread's kept samples whose stack holds a frame matching `frame` (py-spy's %Total). */
function totalShare(result: ProfileResult, frame: (fn: string, file: string) => boolean): number {
  let kept = 0;
  let hits = 0;
  for (const thread of result.threads)
    for (const stack of thread.stacks) {
      const n = Number(stack.count);
      kept += n;
      if (
        stack.frames.some((i) =>
          frame(result.frames[i]?.function ?? "", result.frames[i]?.file ?? ""),
        )
      )
        hits += n;
    }
  return kept === 0 ? 0 : hits / kept;
}

describe("profiles of real workers", () => {
  let gateway: TestGateway;
  let api: ReturnType<typeof apiClients>;
  let spinner: TestWorker;

  /** Starts a profile and follows it to its end. */
  async function profileOf(workerId: string, id: string, mode: ProfileMode, durationMs: number) {
    await api.profiles.startProfile({ profileId: id, workerId, mode, durationMs, reason: "test" });
    let last: Profile | undefined;
    for await (const update of api.profiles.watchProfile({ profileId: id }, { timeoutMs: 40_000 }))
      last = update.profile;
    return last;
  }

  async function busySession(worker: TestWorker, spec: Record<string, unknown>) {
    const { udf } = clientsFor(worker.address);
    const { driver } = await openSession(udf, spec);
    driver.send(engineSays.data(arrowBatch([1n])));
    return driver;
  }

  beforeAll(async () => {
    gateway = await startTestGateway({ operatorToken: TOKEN });
    api = apiClients(gateway.http, TOKEN);
    // One after the other: two cold starts at once starve each other on a busy machine.
    spinner = await startHealthyAgent(gateway, "spinner");
    const hung = await startHealthyAgent(gateway, "hung");
    await busySession(spinner, { fn: "spin" });
    await busySession(hung, { fn: "hang" });
  });
  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  it("CPU mode: the spinning UDF holds at least 90% of its thread's samples", async () => {
    const profile = await profileOf("spinner", "spin-cpu", ProfileMode.CPU, 3000);
    expect(profile?.status).toBe(ActionStatus.SUCCEEDED);
    expect(profile?.sourceLabel).toContain("V8 CPU profiler");
    const result = profile?.result;
    if (!result) throw new Error("no result");
    expect(result.threads).toHaveLength(1);
    expect(Number(result.threads[0]?.samplesTaken)).toBeGreaterThan(100);
    const share = totalShare(
      result,
      (fn, file) => fn === "process" && file.endsWith("demo-udfs.js"),
    );
    const frames = result.frames.map((f) => `${f.function} ${f.file}:${f.line}`).join(" | ");
    expect(share, frames.slice(0, 3000)).toBeGreaterThanOrEqual(0.9);
  });

  // The blocked thread wakes to answer the profiler's own messages: that CPU is
  // left out (CpuTrack.markOwnWork), or its one "on CPU" sample made this flaky.
  it("wall-clock mode shows the hung read at ~100%; CPU mode says the thread is idle", async () => {
    const wall = await profileOf("hung", "hang-wall", ProfileMode.WALL, 2500);
    const wallResult = wall?.result;
    if (!wallResult) throw new Error("no wall result");
    expect(totalShare(wallResult, (fn) => fn === "blockForever")).toBeGreaterThanOrEqual(0.95);

    const cpu = await profileOf("hung", "hang-cpu", ProfileMode.CPU, 2500);
    const thread = cpu?.result?.threads[0];
    const kept = (thread?.stacks ?? []).map(
      (st) =>
        `${st.count}× ${st.frames.map((i) => cpu?.result?.frames[i]?.function ?? "?").join(";")}`,
    );
    expect(kept, kept.join(" | ")).toHaveLength(0);
    expect(thread?.note).toMatch(/^idle: 0 of \d+ samples on CPU/);
  });

  it("a snapshot taken after a profile keeps the worker's latest, result included; the fleet summary lists it without", async () => {
    // After the hung-read case: "hang-cpu" is the hung worker's latest profile.
    await pollUntil(async () =>
      (await api.profiles.getProfile({ profileId: "hang-cpu" })).profile?.status ===
      ActionStatus.SUCCEEDED
        ? true
        : undefined,
    );
    const worker = await api.snapshots.createSnapshot({ workerId: "hung", note: "" });
    const id = worker.info?.id ?? "";
    const permalink = (await api.snapshots.getSnapshot({ id, workerId: "hung" })).snapshot;
    expect(permalink?.profiles.map((p) => p.profileId)).toEqual(["hang-cpu"]);
    expect(permalink?.profiles[0]?.result?.threads[0]?.note).toMatch(/^idle: 0 of \d+ samples/);

    const fleet = await api.snapshots.createSnapshot({ workerId: "", note: "" });
    const summary = (await api.snapshots.getSnapshot({ id: fleet.info?.id ?? "", summary: true }))
      .snapshot;
    const listed = summary?.profiles.find((p) => p.workerId === "hung");
    expect(listed?.profileId).toBe("hang-cpu");
    expect(listed?.result).toBeUndefined();
  });

  it("a Beam harness, which has no sampler, is profiled from its repeated thread dumps, labelled so", async () => {
    const text = readFileSync(
      new URL("../beam-text/fixtures/python-sdk-status.txt", import.meta.url),
      "utf8",
    );
    const harness = startTestHarness(gateway.grpc, "beam-py", () => text);
    try {
      await waitForLiveness(api.fleet, "beam-py", Liveness.HEALTHY);
      const profile = await profileOf("beam-py", "beam-wall", ProfileMode.WALL, 5000);
      expect(profile?.status).toBe(ActionStatus.SUCCEEDED);
      expect(profile?.source).toBe(ProfileSource.DUMPS);
      expect(profile?.sourceLabel).toMatch(/^from \d+ dumps?, one every/);
      // The fixture's hung thread sits in a socket read: every dump shows it there.
      const result = profile?.result;
      if (!result) throw new Error("no result");
      const hung = result.threads.find((t) => t.name === "pod-launcher-sync");
      expect(hung?.stacks.length).toBe(1);
      const leaf = hung?.stacks[0]?.frames.at(-1);
      expect(result.frames[leaf ?? -1]).toMatchObject({
        function: "stuck_in_recv",
        file: "/opt/pipeline/launcher.py",
        line: 28,
      });
    } finally {
      harness.close();
    }
  });

  it("refuses a duration over the cap, a second profile at once and an unknown worker, recording nothing", async () => {
    const refusal = (request: { profileId: string; workerId: string; durationMs?: number }) =>
      api.profiles
        .startProfile({ mode: ProfileMode.WALL, reason: "test", ...request })
        .then(() => "accepted", codeOf);
    expect(await refusal({ profileId: "too-long", workerId: "spinner", durationMs: 60_001 })).toBe(
      Code.InvalidArgument,
    );
    expect(await refusal({ profileId: "nobody", workerId: "no-such-worker" })).toBe(Code.NotFound);
    await api.profiles.startProfile({
      profileId: "first",
      workerId: "spinner",
      mode: ProfileMode.WALL,
      durationMs: 1500,
      reason: "test",
    });
    expect(await refusal({ profileId: "second", workerId: "spinner", durationMs: 1000 })).toBe(
      Code.FailedPrecondition,
    );
    const audit = await api.control.listAudit({ kind: ActionKind.PROFILE });
    const ids = audit.records.map((r) => r.actionId);
    expect(ids).toContain("first");
    for (const refused of ["too-long", "nobody", "second"]) expect(ids).not.toContain(refused);
    await pollUntil(async () =>
      (await api.profiles.getProfile({ profileId: "first" })).profile?.status ===
      ActionStatus.SUCCEEDED
        ? true
        : undefined,
    );
  });

  it("keeps the partial profile of a worker that dies mid-profile, marked, and refuses the gone worker", async () => {
    await api.profiles.startProfile({
      profileId: "dies",
      workerId: "spinner",
      mode: ProfileMode.WALL,
      durationMs: 20_000,
      reason: "test",
    });
    // Interim results arrive every chunk; kill once one is in.
    await pollUntil(
      async () =>
        (await api.profiles.getProfile({ profileId: "dies" })).profile?.sourceLabel
          ? true
          : undefined,
      { timeoutMs: 15_000, what: "an interim result" },
    );
    spinner.child.kill("SIGKILL");
    const profile = await pollUntil(
      async () => {
        const p = (await api.profiles.getProfile({ profileId: "dies" })).profile;
        return p?.status !== ActionStatus.RUNNING ? p : undefined;
      },
      { timeoutMs: 15_000, what: "the profile to end" },
    );
    expect(profile.status).toBe(ActionStatus.FAILED);
    const partial = profile.result;
    if (!partial) throw new Error("the partial result was not kept");
    expect(partial.partial).toBe(true);
    expect(partial.partialReason).toContain("agent stream closed");
    expect(totalShare(partial, (fn) => fn === "process")).toBeGreaterThan(0.5);

    await waitForLiveness(api.fleet, "spinner", Liveness.GONE);
    const gone = await api.profiles
      .startProfile({
        profileId: "gone",
        workerId: "spinner",
        mode: ProfileMode.WALL,
        reason: "t",
      })
      .then(() => "accepted", codeOf);
    expect(gone).toBe(Code.FailedPrecondition);
  });
});
