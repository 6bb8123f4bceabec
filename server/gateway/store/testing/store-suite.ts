import { create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
} from "../../../../gen/stallwatch/v1/control_pb.js";
import {
  DryRunOverrideSchema,
  PolicyDecisionSchema,
  PolicyOutcome,
} from "../../../../gen/stallwatch/v1/policy_pb.js";
import { FleetEventSchema } from "../../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotInfoSchema, SnapshotSchema } from "../../../../gen/stallwatch/v1/snapshot_pb.js";
import { MAX_CAUSE_CHARS, MAX_INCIDENT_CAUSES } from "../incident-store.js";
import { MIGRATIONS } from "../migrations.js";
import { retention, silentLog } from "./store-fixtures.js";
import { openStore, type Store, type StoreOptions } from "../store.js";
import { systemClock } from "../../../shared/clock/clock.js";

/** A RUNNING action `actionId` of `kind` by alice on w1, audited as `auditId`; `init` adds to it. */
const runningAction = (
  [actionId, auditId]: [string, string],
  kind: ActionKind,
  init: MessageInitShape<typeof ActionSchema> = {},
) =>
  create(ActionSchema, {
    actionId,
    auditId,
    kind,
    actor: "alice",
    workerId: "w1",
    status: ActionStatus.RUNNING,
    ...init,
  });

/**
 * A vitest suite, not product code: kept out of dist (tsconfig.build.json).
 * The behaviour every dialect must have, run by store.test.ts (SQLite) and
 * store.postgres.integration.test.ts (PostgreSQL) inside their `describe`.
 * `freshLocation` gives an empty database for each test.
 */
export function defineStoreSuite(
  freshLocation: () => Promise<string>,
  { sharedByProcesses }: { sharedByProcesses: boolean },
): void {
  let location: string;
  const opened: Store[] = [];
  const open = async (extra: Partial<StoreOptions> = {}) => {
    const s = await openStore({
      path: location,
      log: silentLog,
      retention,
      clock: systemClock,
      ...extra,
    });
    opened.push(s);
    return s;
  };
  const close = async (s: Store) => {
    opened.splice(opened.indexOf(s), 1);
    await s.close();
  };
  beforeEach(async () => {
    location = await freshLocation();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  it("records its migrations once, and refuses a database written by a newer version", async () => {
    await close(await open());
    const s = await open();
    const versions = await s.db
      .selectFrom("schema_migrations")
      .select("version")
      .orderBy("version")
      .execute();
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await s.db.insertInto("schema_migrations").values({ version: 99, applied_at_ms: 0 }).execute();
    await close(s);
    await expect(open()).rejects.toThrow(/schema version 99, newer than this Stallwatch knows/);
  });

  // A SQLite file belongs to one gateway; PostgreSQL is shared by a cluster.
  it.runIf(sharedByProcesses)(
    "migrates once when several gateways open the same database together",
    async () => {
      const stores = await Promise.all([open(), open(), open()]);
      const [first] = stores;
      const versions = await first.db.selectFrom("schema_migrations").select("version").execute();
      expect(versions).toHaveLength(MIGRATIONS.length);
    },
  );

  it("keeps audit, actions, events and snapshots across a restart", async () => {
    const s = await open();
    const startedAtMs = BigInt(Date.now());
    const action = runningAction(["a-1", "au-1"], ActionKind.DRAIN_WORKER, { startedAtMs });
    await s.createAction(action);
    await s.saveAction({ ...action, status: ActionStatus.SUCCEEDED, outcome: "drained" });
    const event = create(FleetEventSchema, {
      id: "e-1",
      atMs: BigInt(Date.now()),
      workerId: "w1",
      kind: "liveness",
      summary: "late",
    });
    await s.appendEvents([event]);
    // The same event again (a retry, or a peer's copy) is stored once.
    await s.appendEvents([event]);
    const snapshot = create(SnapshotSchema, {
      info: {
        id: "snap-aaaaaaaaaaaaaaaaaaaaaa",
        createdAtMs: BigInt(Date.now()),
        expiresAtMs: BigInt(Date.now() + 60_000),
        createdBy: "alice",
        workerCount: 1,
      },
      workers: [{ id: "w1", address: "127.0.0.1:1" }],
    });
    const info = await s.putSnapshot(snapshot);
    expect(info.sizeBytes).toBeGreaterThan(0n);
    await close(s);

    const again = await open();
    expect((await again.getAction("a-1"))?.kind).toBe(ActionKind.DRAIN_WORKER);
    expect((await again.listAudit({ limit: 10 }))[0]).toMatchObject({
      id: "au-1",
      result: ActionStatus.SUCCEEDED,
      outcome: "drained",
    });
    expect((await again.listEvents({ workerId: "w1", limit: 10 })).map((e) => e.id)).toEqual([
      "e-1",
    ]);
    const loaded = await again.getSnapshot("snap-aaaaaaaaaaaaaaaaaaaaaa");
    expect(loaded && equals(SnapshotSchema, loaded, snapshot)).toBe(true);
    expect((await again.listSnapshots(10)).map((i) => i.id)).toEqual([
      "snap-aaaaaaaaaaaaaaaaaaaaaa",
    ]);
    // The codec's path (snapshot-codec.ts) reads the same row as bytes, its size in the info.
    const body = await again.getSnapshotBody("snap-aaaaaaaaaaaaaaaaaaaaaa");
    expect(body?.info.sizeBytes).toBe(info.sizeBytes);
    expect(body?.body.length).toBe(Number(info.sizeBytes));
    const byBody = await again.putSnapshotBody(
      create(SnapshotInfoSchema, {
        id: "snap-bbbbbbbbbbbbbbbbbbbbbb",
        createdAtMs: BigInt(Date.now()),
        expiresAtMs: BigInt(Date.now() + 60_000),
      }),
      body?.body ?? new Uint8Array(),
    );
    expect(byBody.sizeBytes).toBe(info.sizeBytes);
    const copy = await again.getSnapshot("snap-bbbbbbbbbbbbbbbbbbbbbb");
    expect(copy?.workers.map((w) => w.id)).toEqual(["w1"]);
    expect(await again.getSnapshotBody("snap-unknown")).toBeUndefined();
  });

  it("filters and orders audit newest first, and caps limits", async () => {
    const s = await open();
    for (let i = 0; i < 5; i++) {
      await s.createAction(
        create(ActionSchema, {
          actionId: `x${i}`,
          auditId: `a${i}`,
          startedAtMs: BigInt(1000 + i),
          actor: i % 2 ? "bob" : "alice",
          kind: ActionKind.CANCEL_SESSION,
          workerId: `w${i % 2}`,
        }),
      );
    }
    const ids = async (f: Parameters<Store["listAudit"]>[0]) =>
      (await s.listAudit(f)).map((r) => r.id);
    expect(await ids({ limit: 10 })).toEqual(["a4", "a3", "a2", "a1", "a0"]);
    expect(await ids({ actor: "bob", limit: 10 })).toEqual(["a3", "a1"]);
    expect(await ids({ workerId: "w0", limit: 1 })).toEqual(["a4"]);
    expect(await ids({ kind: ActionKind.DRAIN_WORKER, limit: 10 })).toEqual([]);
    expect(await ids({ limit: 0 })).toHaveLength(1);
  });

  it("stores a large batch of events, filters them, newest first", async () => {
    const s = await open();
    const now = Date.now();
    await s.appendEvents(
      Array.from({ length: 1200 }, (_, i) =>
        create(FleetEventSchema, {
          id: `e${i}`,
          atMs: BigInt(now + i),
          workerId: `w${i % 3}`,
          kind: i % 2 ? "liveness" : "action",
        }),
      ),
    );
    const list = await s.listEvents({ workerId: "w1", kind: "liveness", limit: 2 });
    expect(list.map((e) => e.id)).toEqual(["e1195", "e1189"]);
    expect(await s.listEvents({ limit: 5000 })).toHaveLength(1000);
  });

  it("prunes exactly what expired and hides expired snapshots", async () => {
    const s = await open();
    const now = Date.now();
    const put = (id: string, expires: number) =>
      s.putSnapshot(
        create(SnapshotSchema, {
          info: { id, createdAtMs: BigInt(now), expiresAtMs: BigInt(expires) },
        }),
      );
    await put("old", now - 1);
    await put("new", now + 60_000);
    await s.appendEvents([
      create(FleetEventSchema, {
        id: "e-old",
        atMs: BigInt(now - retention.eventsMs - 1),
        workerId: "w",
        kind: "x",
      }),
      create(FleetEventSchema, { id: "e-new", atMs: BigInt(now), workerId: "w", kind: "x" }),
    ]);
    expect(await s.getSnapshot("old")).toBeUndefined();
    expect(await s.prune(now)).toMatchObject({ snapshots: 1, events: 1 });
    expect((await s.listSnapshots(10)).map((i) => i.id)).toEqual(["new"]);
    expect((await s.listEvents({ limit: 10 })).map((e) => e.id)).toEqual(["e-new"]);
  });

  it("deletes snapshots and says whether one existed", async () => {
    const s = await open();
    await s.putSnapshot(
      create(SnapshotSchema, { info: { id: "x", expiresAtMs: BigInt(Date.now() + 60_000) } }),
    );
    expect(await s.deleteSnapshot("x")).toBe(true);
    expect(await s.deleteSnapshot("x")).toBe(false);
    expect(await s.getSnapshot("x")).toBeUndefined();
  });

  it("writes an action and its audit record together, and lists what is left running", async () => {
    const s = await open();
    const running = runningAction(["r-1", "au-r1"], ActionKind.CANCEL_SESSION, {
      sessionId: "s1",
      outcome: "started",
      startedAtMs: 5n,
    });
    await s.createAction(running);
    await s.createAction({ ...running, actionId: "r-2", auditId: "au-r2", startedAtMs: 6n });
    await expect(s.createAction({ ...running, auditId: "au-other" })).rejects.toThrow(/unique/i);
    // The failed insert took nothing with it: no orphan audit record.
    expect((await s.listAudit({ limit: 10 })).map((r) => r.id)).toEqual(["au-r2", "au-r1"]);
    await s.saveAction({ ...running, status: ActionStatus.INTERRUPTED, outcome: "interrupted: x" });
    expect((await s.listUnfinishedActions()).map((a) => a.actionId)).toEqual(["r-2"]);
    const audit = (await s.listAudit({ limit: 10 })).find((r) => r.id === "au-r1");
    expect(audit).toMatchObject({ result: ActionStatus.INTERRUPTED, outcome: "interrupted: x" });
    // A retry links both ways in one transaction.
    const retry = {
      ...running,
      actionId: "r-3",
      auditId: "au-r3",
      retryOf: "r-1",
      startedAtMs: 7n,
    };
    await s.createAction(retry, [
      { ...running, status: ActionStatus.INTERRUPTED, retriedBy: "r-3" },
    ]);
    expect((await s.getAction("r-1"))?.retriedBy).toBe("r-3");
    expect((await s.listAudit({ limit: 1 }))[0]?.retryOf).toBe("r-1");
    // A retry whose link fails (no such action) commits neither.
    await expect(
      s.createAction({ ...retry, actionId: "r-4", auditId: "au-r4" }, [
        { ...running, actionId: "missing" },
      ]),
    ).rejects.toThrow(/no action "missing"/);
    expect(await s.getAction("r-4")).toBeUndefined();
    // Pruning never takes an action that is still running.
    expect((await s.prune(Date.now() + 100 * 86_400_000)).actions).toBe(1);
    expect(await s.getAction("r-2")).toBeDefined();
  });

  it("opens an incident once, adds causes to it, keeps it across a restart, and closes it once", async () => {
    const s = await open();
    // Times now-ish: opening a store prunes incidents older than the events' retention.
    const t = Date.now();
    // Two raises at once (a takeover race): exactly one caller announces.
    const [a, b] = await Promise.all([
      s.openIncident("w1", "liveness", t),
      s.openIncident("w1", "session:s-1", t + 1),
    ]);
    expect([a.opened, b.opened].sort()).toEqual([false, true]);
    expect((await s.getIncident("w1"))?.sort()).toEqual(["liveness", "session:s-1"]);
    expect(await s.getIncident("w2")).toBeUndefined();
    await close(s);

    const again = await open();
    // The restarted gateway knows the incident was announced.
    expect((await again.openIncident("w1", "liveness", t + 2)).opened).toBe(false);
    await again.setIncidentCauses("w1", ["session:s-1"], t + 3);
    expect(await again.getIncident("w1")).toEqual(["session:s-1"]);
    const closes = await Promise.all([again.closeIncident("w1"), again.closeIncident("w1")]);
    expect(closes.sort()).toEqual([false, true]);
    expect(await again.getIncident("w1")).toBeUndefined();
    // A worker's hostile session ids cannot grow a row without bound.
    for (let i = 0; i < 300; i++)
      await again.openIncident("w3", `session:${i}${"x".repeat(400)}`, t + 4);
    const causes = (await again.getIncident("w3")) ?? [];
    expect(causes.length).toBe(MAX_INCIDENT_CAUSES);
    expect(Math.max(...causes.map((c) => c.length))).toBe(MAX_CAUSE_CHARS);
  });

  it("proves it writes, and lets operations under way finish before closing", async () => {
    const s = await open();
    await s.probeWrite();
    const writes = Array.from({ length: 20 }, (_, i) =>
      s.appendEvents([
        create(FleetEventSchema, {
          id: `c${i}`,
          atMs: BigInt(Date.now()),
          workerId: "w",
          kind: "x",
        }),
      ]),
    );
    await close(s);
    await Promise.all(writes);
    const again = await open();
    expect(await again.listEvents({ limit: 100 })).toHaveLength(20);
  });

  it("records a policy decision once per id, counts the cap fleet-wide, and finds decisions never started", async () => {
    const s = await open();
    const decision = (id: string, atMs: number, outcome = PolicyOutcome.ACTED) =>
      create(PolicyDecisionSchema, {
        decisionId: id,
        policy: "hung",
        outcome,
        workerId: "w1",
        sessionId: id,
        atMs: BigInt(atMs),
        actionId: outcome === PolicyOutcome.ACTED ? id : "",
      });
    const cap = (id: string, atMs: number) => ({
      maxActions: 2,
      windowMs: 60_000,
      counted: PolicyOutcome.ACTED,
      skipped: decision(`skip-${id}`, atMs, PolicyOutcome.SKIPPED_CAP),
    });
    const now = Date.now();
    expect(await s.recordDecision(decision("d1", now), cap("d1", now))).toMatchObject({
      fresh: true,
    });
    // The same id again (a later tick, a restart, another gateway) is the first decision.
    const again = await s.recordDecision(decision("d1", now + 5), cap("d1", now + 5));
    expect(again.fresh).toBe(false);
    expect(again.decision.atMs).toBe(BigInt(now));
    expect(
      (await s.recordDecision(decision("d2", now + 1), cap("d2", now + 1))).decision.outcome,
    ).toBe(PolicyOutcome.ACTED);
    // The cap binds at two ACTED decisions inside the window: what is recorded is the skip.
    const third = await s.recordDecision(decision("d3", now + 2), cap("d3", now + 2));
    expect(third).toMatchObject({
      fresh: true,
      decision: { decisionId: "skip-d3", outcome: PolicyOutcome.SKIPPED_CAP },
    });
    expect((await s.recordDecision(decision("d3", now + 3), cap("d3", now + 3))).fresh).toBe(false);
    // Past the window there is room again.
    expect(
      (await s.recordDecision(decision("d4", now + 61_000), cap("d4", now + 61_000))).decision
        .outcome,
    ).toBe(PolicyOutcome.ACTED);
    const tally = (await s.tallyPolicies([{ policy: "hung", sinceMs: now + 1000 }])).get("hung");
    expect(tally?.byOutcome.get(PolicyOutcome.ACTED)).toBe(3);
    expect(tally?.byOutcome.get(PolicyOutcome.SKIPPED_CAP)).toBe(1);
    expect(tally?.actedInWindow).toBe(1);
    expect(tally?.lastAtMs).toBe(now + 61_000);
    expect((await s.listDecisions({ limit: 2 })).map((d) => d.decisionId)).toEqual([
      "d4",
      "skip-d3",
    ]);
    expect(
      (await s.listDecisions({ limit: 10, beforeMs: now + 2 })).map((d) => d.decisionId),
    ).toEqual(["d2", "d1"]);
    // d1 got its action; the others were decided but never started.
    await s.createAction(runningAction(["d1", "au-d1"], ActionKind.CANCEL_SESSION));
    expect((await s.listUnstartedDecisions()).map((d) => d.decisionId)).toEqual(["d2", "d4"]);
    const failed = { ...decision("d2", now + 1), outcome: PolicyOutcome.FAILED, detail: "gone" };
    expect(await s.failUnstarted(failed)).toBe(true);
    expect(await s.failUnstarted({ ...decision("d1", now), outcome: PolicyOutcome.FAILED })).toBe(
      false,
    );
    expect((await s.listUnstartedDecisions()).map((d) => d.decisionId)).toEqual(["d4"]);
  });

  it("keeps the dry-run switch with its audit record", async () => {
    const s = await open();
    expect(await s.getDryRunOverride()).toBeUndefined();
    const on = create(DryRunOverrideSchema, {
      on: true,
      actor: "alice",
      atMs: BigInt(Date.now()),
      reason: "incident",
      auditId: "au-o1",
    });
    const audit = create(AuditRecordSchema, {
      id: "au-o1",
      atMs: BigInt(Date.now()),
      actor: "alice",
      outcome: "on",
    });
    await s.setDryRunOverride(on, audit);
    await s.setDryRunOverride(
      { ...on, on: false, auditId: "au-o2" },
      { ...audit, id: "au-o2", atMs: BigInt(Date.now() + 1) },
    );
    await close(s);
    const again = await open();
    expect(await again.getDryRunOverride()).toMatchObject({ on: false, auditId: "au-o2" });
    expect((await again.listAudit({ actor: "alice", limit: 10 })).map((a) => a.id)).toEqual([
      "au-o2",
      "au-o1",
    ]);
  });

  it.runIf(sharedByProcesses)(
    "holds a policy's cap across gateways deciding at the same moment",
    async () => {
      // Two stores are two gateways' connection pools on one database.
      const [one, two] = [await open(), await open()];
      const now = Date.now();
      const decide = (s: Store, i: number) =>
        s.recordDecision(
          create(PolicyDecisionSchema, {
            decisionId: `race-${i}`,
            actionId: `race-${i}`,
            policy: "race",
            outcome: PolicyOutcome.ACTED,
            workerId: `w${i}`,
            atMs: BigInt(now),
          }),
          {
            maxActions: 5,
            windowMs: 60_000,
            counted: PolicyOutcome.ACTED,
            skipped: create(PolicyDecisionSchema, {
              decisionId: `race-skip-${i}`,
              policy: "race",
              outcome: PolicyOutcome.SKIPPED_CAP,
              workerId: `w${i}`,
              atMs: BigInt(now),
            }),
          },
        );
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => decide(i % 2 === 0 ? one : two, i)),
      );
      const acted = results.filter((r) => r.decision.outcome === PolicyOutcome.ACTED);
      expect(acted).toHaveLength(5);
      const tally = (await one.tallyPolicies([{ policy: "race", sinceMs: 0 }])).get("race");
      expect(tally?.byOutcome.get(PolicyOutcome.ACTED)).toBe(5);
      expect(tally?.byOutcome.get(PolicyOutcome.SKIPPED_CAP)).toBe(19);
    },
  );
}
