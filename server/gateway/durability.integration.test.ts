import { execFileSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb.js";
import { engineSays } from "../engine/execute-driver.js";
import { apiClients } from "../testing/api-clients.js";
import { waitForLiveness } from "../testing/fleet-client.js";
import { pollUntil } from "../testing/poll.js";
import type { CliFlags } from "../testing/cli-flags.js";
import { freshDbPath, killAllStarted, runStallwatch } from "../testing/spawn-stallwatch.js";
import { startTestGateway, testGatewayArgs } from "../testing/test-gateway.js";
import { startHealthyAgent, startTestWorker } from "../testing/test-worker.js";
import { makeUnwritable } from "../testing/unwritable.js";
import { arrowBatch, clientsFor, openSession } from "../testing/protocol-fixtures.js";

const TOKEN = "durability-operator-token";
const codeOf = (err: unknown) => ConnectError.from(err).code;
const withDb = (db: string, flags?: CliFlags) => ({ db, operatorToken: TOKEN, flags });

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), "stallwatch-mount-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

afterAll(() => killAllStarted());

describe("storage failures reach the caller", () => {
  it.skipIf(!canMountTmpfs())(
    "disk full (a 2 MiB tmpfs): the request gets Unavailable, /readyz names the store error until the exit 3; a restart on the full disk never turns ready",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "stallwatch-full-"));
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]);
      try {
        const db = join(dir, "db", "stallwatch.db");
        const gateway = await startTestGateway(withDb(db));
        const { snapshots } = apiClients(gateway.http, TOKEN);
        await snapshots.createSnapshot({});
        // Fill what is left of the file system.
        const fd = openSync(join(dir, "filler"), "w");
        try {
          const chunk = Buffer.alloc(16 << 10);
          for (;;) writeSync(fd, chunk);
        } catch {
          // ENOSPC: full
        } finally {
          closeSync(fd);
        }
        let error: unknown;
        for (let i = 0; i < 50 && error === undefined; i++) {
          await snapshots.createSnapshot({ note: "x".repeat(2000) }).catch((e: unknown) => {
            error = e;
          });
        }
        // /readyz from the fault to the exit. Whether one lands before the
        // listener closes (0.5 s without a request) depends on the machine,
        // so edge-listeners.test.ts pins the refusal's words; this checks the wiring.
        const notReady = new Set<string>();
        const readyzPoller = (async () => {
          for (;;) {
            const answer = await fetch(`http://${gateway.http}/readyz`, {
              signal: AbortSignal.timeout(5000),
            }).then(
              async (r) => (r.status === 200 ? "" : await r.text()),
              () => undefined, // the gateway has gone
            );
            if (answer === undefined) return;
            if (answer) notReady.add(answer.trim());
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        expect(codeOf(error)).toBe(Code.Unavailable);
        expect(ConnectError.from(error).rawMessage).toMatch(
          /cannot write to its database \(SQLITE_FULL\)/,
        );
        expect(await gateway.exited).toBe(3);
        expect(gateway.logs.find((l) => l.msg === "database failure")?.err).toMatch(/SQLITE_FULL/);
        await readyzPoller;
        // Issue 19 item 8: it said "the gateway is shutting down", hiding the cause.
        expect([...notReady].filter((text) => !/SQLITE_FULL/.test(text))).toEqual([]);

        const again = await runStallwatch(testGatewayArgs(withDb(db)));
        expect(again.code).toBe(3);
        const fatal = again.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.msg === "database unusable, exiting");
        expect(fatal?.err).toMatch(/cannot open the database .*(full|SQLITE_FULL)/i);
        expect(again.stdout).not.toContain('"msg":"listening"');
      } finally {
        execFileSync("umount", ["-l", dir]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("a database made read-only while running: readiness 503, a JSON fatal line, exit 3; the next start says why it cannot open", async () => {
    const db = freshDbPath();
    const gateway = await startTestGateway(withDb(db, { "store-check-ms": 200 }));
    expect((await fetch(`http://${gateway.http}/readyz`)).status).toBe(200);
    // Not the -shm file: SQLite maps it, and an immutable mapping is a crash, not an error.
    const undo = makeUnwritable([db]);
    try {
      expect(await gateway.exited).toBe(3);
      const failure = gateway.logs.find((l) => l.msg === "database failure");
      expect(failure?.err).toMatch(/is not writable \((EPERM|EACCES)\)/);
      const again = await runStallwatch(testGatewayArgs(withDb(db)));
      expect(again.code).toBe(3);
      expect(again.stderr).toBe("");
      const line = JSON.parse(again.stdout.trim().split("\n").at(-1) ?? "{}") as Record<
        string,
        unknown
      >;
      expect(line).toMatchObject({ level: 60, msg: "database unusable, exiting", exitCode: 3 });
      expect(line.err).toMatch(/cannot open the database at .*is not writable/);
    } finally {
      undo();
    }
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM: readiness 503, requests in flight answered, streams told to reconnect, exit 0", async () => {
    const gateway = await startTestGateway(
      withDb(freshDbPath(), {
        "shutdown-grace-ms": 5000,
        // Hundreds of snapshot writes in flight are the point here, not the rate limit.
        "snapshots-per-minute": 100_000,
        "snapshots-per-minute-total": 100_000,
      }),
    );
    const http = gateway.http;
    const { fleet, snapshots } = apiClients(http, TOKEN);
    const streamEnd = (async () => {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only the stream's end matters
      for await (const _ of fleet.watchFleet({}, { timeoutMs: 30_000 }));
    })().then(
      () => "ended normally",
      (e: unknown) => Code[codeOf(e)],
    );
    let answeredSoFar = 0;
    const outcome = (status: number | string) => {
      answeredSoFar += 1;
      return status;
    };
    const failure = (err: unknown) => {
      const cause = (err as { cause?: { code?: string } }).cause;
      return `error:${cause?.code ?? (err as Error).message}`;
    };
    const request = (i: number) =>
      (i % 2
        ? fetch(`http://${http}/readyz`).then((r) => r.status)
        : snapshots.createSnapshot({ note: `n${i}` }).then(
            () => 200,
            (e: unknown) => {
              const code = codeOf(e);
              if (code === Code.Unavailable) return "unavailable";
              throw e;
            },
          )
      ).then(outcome, failure);
    const inFlight = Array.from({ length: 300 }, (_, i) => request(i));
    await pollUntil(() => (answeredSoFar >= 20 ? true : undefined), {
      intervalMs: 1,
      what: "the first answers",
    });
    gateway.child.kill("SIGTERM");
    const after = Array.from({ length: 100 }, (_, i) => request(i + 1000));
    const answered = await Promise.all(inFlight);
    const late = await Promise.all(after);
    expect(await gateway.exited).toBe(0);
    // Every request in flight got an answer: done, or refused with 503 / Unavailable; no resets.
    expect(answered.filter((o) => o !== 200 && o !== 503 && o !== "unavailable")).toEqual([]);
    // Later ones were refused with an answer, or found the port closed once the gateway had gone.
    expect(
      late.filter(
        (o) => o !== 200 && o !== 503 && o !== "unavailable" && o !== "error:ECONNREFUSED",
      ),
    ).toEqual([]);
    expect(answered.filter((o) => o === 200).length).toBeGreaterThan(0);
    expect(await streamEnd).toBe("Unavailable");
    expect(gateway.logs.some((l) => l.msg === "stopped")).toBe(true);
  });
});

describe("faster gone", () => {
  it("a killed worker is marked gone by the probe its broken agent stream triggers, not by the next heartbeat", async () => {
    // Heartbeats every 60 s: only the immediate probe can see the worker go in time.
    const gateway = await startTestGateway(withDb(freshDbPath(), { "interval-ms": 60_000 }));
    const worker = await startTestWorker({ id: "kill-me", gateway: gateway.grpc });
    const { fleet } = apiClients(gateway.http);
    await pollUntil(
      async () =>
        (await fleet.listWorkers({})).workers.find((w) => w.id === "kill-me" && w.agent?.connected),
      { what: "the worker's agent" },
    );
    worker.child.kill("SIGKILL");
    const gone = await waitForLiveness(fleet, "kill-me", Liveness.GONE, 5000);
    expect(gone.livenessReason).toMatch(/connection (refused|reset|closed)/);
    await gateway.stop();
  });
});

describe("reconciliation after a crash", () => {
  it("settles a cancel the worker finished while the gateway was down; marks one it cannot settle interrupted, which a retry resumes", async () => {
    const db = freshDbPath();
    let gateway = await startTestGateway(withDb(db));
    // A restart binds the addresses the first start got.
    const { http, grpc } = gateway;
    const restart = async (flags?: CliFlags) => {
      gateway = await startTestGateway({ ...withDb(db, flags), http, grpc });
      return apiClients(http, TOKEN);
    };
    let worker = await startHealthyAgent({ http, grpc }, "hung");
    let api = apiClients(http, TOKEN);
    const seen = new Set<string>();
    const hangSession = async () => {
      const { udf } = clientsFor(worker.address);
      const { driver } = await openSession(udf, { fn: "hang" });
      driver.send(engineSays.data(arrowBatch([1n])));
      const sessionId = await pollUntil(
        async () => {
          const sessions = (await api.fleet.getWorker({ workerId: "hung" })).detail?.sessions ?? [];
          return sessions.find((x) => x.session?.sessionId && !seen.has(x.session.sessionId))
            ?.session?.sessionId;
        },
        { timeoutMs: 15_000, what: "the hung session to be reported" },
      );
      seen.add(sessionId);
      return { driver, sessionId };
    };
    const audit = async (actionId: string) =>
      (await api.control.listAudit({})).records.find((r) => r.actionId === actionId);
    const cancelHung = (
      actionId: string,
      sessionId: string,
      { reason, graceMs }: { reason: string; graceMs: number },
    ) => api.control.cancelSession({ actionId, workerId: "hung", sessionId, reason, graceMs });
    const settled = (actionId: string, timeoutMs?: number) =>
      pollUntil(
        async () => {
          const r = await audit(actionId);
          return r && r.result !== ActionStatus.RUNNING ? r : undefined;
        },
        { timeoutMs, what: `${actionId} to settle` },
      );

    // The repro: a cancel with a grace, the gateway killed 0.5 s later.
    const one = await hangSession();
    await cancelHung("cancel-hung", one.sessionId, { reason: "stuck", graceMs: 3000 });
    await new Promise((r) => setTimeout(r, 500));
    gateway.child.kill("SIGKILL");
    await gateway.exited;
    api = await restart();
    // Reconciliation after the restart settles it.
    const hung = await settled("cancel-hung", 30_000);
    expect(hung).toMatchObject({ result: ActionStatus.SUCCEEDED, reconciled: true });
    expect(hung.outcome).toMatch(
      /cancelled: the worker reports session .* cancelled \(confirmed after a gateway restart\)/,
    );
    one.driver.abort();

    // Worker and gateway both killed mid-cancel: nobody can tell how it ended.
    const two = await hangSession();
    await cancelHung("cancel-lost", two.sessionId, { reason: "stuck again", graceMs: 5000 });
    worker.child.kill("SIGKILL");
    gateway.child.kill("SIGKILL");
    await Promise.all([worker.exited, gateway.exited]);
    two.driver.abort();
    api = await restart({ "reconcile-wait-ms": 1000 });
    const interrupted = await settled("cancel-lost", 15_000);
    expect(interrupted.result).toBe(ActionStatus.INTERRUPTED);
    expect(interrupted.outcome).toMatch(
      /agent did not reconnect within 1 s; whether session .* was cancelled is unknown/,
    );

    // Retry: a new id linked to the old one, idempotent, only once, only for interrupted actions.
    worker = await startHealthyAgent({ http, grpc }, "hung");
    // Refused (FailedPrecondition, nothing recorded) until the new agent is connected.
    const { action: retry } = await pollUntil(
      () =>
        api.control.retryAction({ actionId: "cancel-lost-2", retryOf: "cancel-lost", reason: "" }),
      { what: "the retry to be accepted" },
    );
    expect(retry).toMatchObject({
      retryOf: "cancel-lost",
      sessionId: two.sessionId,
      reason: "stuck again",
    });
    const again = await api.control.retryAction({
      actionId: "cancel-lost-2",
      retryOf: "cancel-lost",
      reason: "",
    });
    expect(again.action?.auditId).toBe(retry?.auditId);
    await expect(
      api.control.retryAction({ actionId: "cancel-lost-3", retryOf: "cancel-lost", reason: "" }),
    ).rejects.toThrow(/already retried as cancel-lost-2/);
    await expect(
      api.control.retryAction({ actionId: "x-1", retryOf: "cancel-hung", reason: "" }),
    ).rejects.toSatisfy((e: unknown) => codeOf(e) === Code.FailedPrecondition);
    expect(await audit("cancel-lost")).toMatchObject({ retriedBy: "cancel-lost-2" });
    // The new worker process never had that session: the retry says so.
    const ended = await settled("cancel-lost-2");
    expect(ended).toMatchObject({ result: ActionStatus.FAILED, retryOf: "cancel-lost" });
    await worker.stop();
    await gateway.stop();
  });
});
