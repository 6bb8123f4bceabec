import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import {
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
} from "../../gen/stallwatch/v1/control_pb.js";
import { apiClients } from "./api-clients.js";
import { testGatewayArgs } from "./test-gateway.js";
import { testWorkerArgs } from "./test-worker.js";
import { pollUntil } from "./poll.js";
import { checkBackups, startConcurrentReader, type ReaderTally } from "./concurrent-reader.js";

/** The compiled CLI (what `npx stallwatch` runs). */
export const COMPILED_CLI = fileURLToPath(new URL("../main.js", import.meta.url));

export const CRASH_TOKEN = "crash-trials-operator-token";

/** A child process whose JSON log lines are collected. */
export interface Proc {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | string>;
  waitFor(msg: string, timeoutMs: number): Promise<Record<string, unknown>>;
}

export function spawnCli(cli: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, LOG_LEVEL: "info", ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const wake = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ msg: text });
    }
    for (const w of wake) w();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve(code ?? signal ?? "unknown");
      for (const w of wake) w();
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const waitFor = (msg: string, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => l.msg === msg);
        if (found || done) {
          clearTimeout(timer);
          wake.delete(check);
          if (found) resolve(found);
          else reject(new Error(`exited before "${msg}"`));
        }
      };
      const timer = setTimeout(() => {
        wake.delete(check);
        reject(new Error(`no "${msg}" within ${timeoutMs} ms`));
      }, timeoutMs);
      wake.add(check);
      check();
    });
  return { child, lines, exited, waitFor };
}

export interface TrialResult {
  /** Writes acknowledged to the client before the kill. */
  acknowledged: number;
  /** Acknowledged writes not found after the restart. */
  lost: number;
  /** Acknowledged actions whose audit record is missing or disagrees. */
  withoutAudit: number;
  /** Actions still RUNNING once reconciliation ended. */
  stillRunning: number;
  /** How many actions the restarted gateway had to reconcile, and how long it took. */
  reconciled: number;
  reconcileMs: number;
  /** Spawn to the first 200 from /readyz. */
  restartToReadyMs: number;
  integrity: string;
  /** Repeating an acknowledged action id returned the same action and audit id. */
  idempotent: boolean;
  /** With a concurrent reader: its sqlite3 runs, and those that failed or were not ok. */
  readerQueries: number;
  readerNotOk: number;
  readerProblems: string[];
  /** Online backups taken during the trial; their integrity_check; acknowledged ids they miss. */
  backups: number;
  backupIntegrity: string;
  backupMissing: number;
}

interface Acked {
  kind: "action" | "snapshot";
  id: string;
  auditId?: string;
}

/**
 * Kill -9 trials of a gateway under concurrent action and snapshot writes.
 * Each trial restarts the gateway on the same ports and database, checks what
 * the previous one acknowledged, waits for reconciliation, then floods writes
 * and kills it at a random moment. One real worker (agent + Manage) stays up
 * throughout, so reconciliation can ask it. With `concurrentReader`, a
 * sqlite3 process queries the database over and over and takes one online
 * backup while the writes are acknowledged (issue 18).
 */
export async function runCrashTrials(opts: {
  cli: string;
  db: string;
  trials: number;
  concurrency?: number;
  concurrentReader?: boolean;
  onTrial?: (n: number, result: TrialResult) => void;
}): Promise<TrialResult[]> {
  const concurrency = opts.concurrency ?? 8;
  let http = "127.0.0.1:0";
  let grpc = "127.0.0.1:0";
  let worker: Proc | undefined;
  let gateway: Proc | undefined;
  const results: TrialResult[] = [];
  let acked: Acked[] = [];
  const noReader = { queries: 0, notOk: 0, problems: [], backups: [] } satisfies ReaderTally;
  let read: ReaderTally = noReader;
  try {
    for (let trial = 0; trial <= opts.trials; trial++) {
      const spawned = performance.now();
      gateway = spawnCli(opts.cli, testGatewayArgs({ http, grpc, operatorToken: CRASH_TOKEN }), {
        STALLWATCH_DB: opts.db,
        STALLWATCH_RECONCILE_WAIT_MS: "5000",
      });
      const listening = await gateway.waitFor("listening", 15_000);
      http = String(listening.http);
      grpc = String(listening.grpc);
      await pollUntil(
        async () => ((await fetch(`http://${http}/readyz`)).status === 200 ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 10, what: "readiness" },
      );
      const restartToReadyMs = performance.now() - spawned;
      worker ??= spawnCli(opts.cli, testWorkerArgs({ id: "crash-w", gateway: grpc }));
      const { control, snapshots } = apiClients(http, CRASH_TOKEN);
      if (trial > 0) {
        const reconcile = await settleReconciliation(gateway, listening);
        results.push({
          ...(await verify(opts.db, acked, control)),
          ...reconcile,
          ...readerFigures(read),
          restartToReadyMs,
          acknowledged: acked.length,
        });
        opts.onTrial?.(trial, results.at(-1) as TrialResult);
      }
      if (trial === opts.trials) break;
      // The worker's agent must be connected for cancels to be accepted.
      await pollUntil(
        () =>
          control
            .cancelSession({
              actionId: `probe-${trial}`,
              workerId: "crash-w",
              sessionId: "none",
              reason: "probe",
            })
            .then(() => true),
        { timeoutMs: 15_000, intervalMs: 50, what: "the worker's agent" },
      );
      acked = [];
      let stop = false;
      const flood = async (lane: number) => {
        for (let i = 0; !stop; i++) {
          const id = `t${trial}-l${lane}-${i}`;
          try {
            if (i % 4 === 3) {
              const { info } = await snapshots.createSnapshot({ note: id });
              if (info) acked.push({ kind: "snapshot", id: info.id });
            } else {
              const { action } = await control.cancelSession({
                actionId: id,
                workerId: "crash-w",
                sessionId: `no-such-session-${i}`,
                reason: "crash trial",
              });
              if (action) acked.push({ kind: "action", id, auditId: action.auditId });
            }
          } catch {
            return; // the kill: what was acknowledged so far is what counts
          }
        }
      };
      const lanes = Array.from({ length: concurrency }, (_, lane) => flood(lane));
      const reader = opts.concurrentReader
        ? startConcurrentReader({
            db: opts.db,
            backupTo: join(dirname(opts.db), `backup-${trial}.db`),
            backupAfter: 1,
            acked: () => acked.map((a) => a.id),
          })
        : undefined;
      // With a reader, the kill comes after its backup: writes acknowledged
      // under a reader are what the trial is about.
      await reader?.backedUp;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
      gateway.child.kill("SIGKILL");
      await gateway.exited;
      stop = true;
      await Promise.all(lanes);
      read = (await reader?.stop()) ?? noReader;
    }
  } finally {
    gateway?.child.kill("SIGKILL");
    worker?.child.kill("SIGKILL");
  }
  return results;
}

function readerFigures(read: ReaderTally) {
  const backup = checkBackups(read.backups);
  return {
    readerQueries: read.queries,
    readerNotOk: read.notOk,
    readerProblems: read.problems,
    backups: read.backups.length,
    backupIntegrity: backup.integrity,
    backupMissing: backup.missing,
  };
}

async function settleReconciliation(
  gateway: Proc,
  listening: Record<string, unknown>,
): Promise<{ reconciled: number; reconcileMs: number }> {
  const started = Number(listening.time);
  const line = await gateway.waitFor("actions reconciled", 20_000);
  return { reconciled: Number(line.count), reconcileMs: Number(line.time) - started };
}

async function verify(
  db: string,
  acked: Acked[],
  control: ReturnType<typeof apiClients>["control"],
): Promise<
  Pick<TrialResult, "lost" | "withoutAudit" | "stillRunning" | "integrity" | "idempotent">
> {
  const conn = new Database(db, { readonly: true });
  try {
    const integrity = String(conn.pragma("integrity_check", { simple: true }));
    const actionRow = conn.prepare("SELECT body FROM actions WHERE action_id = ?");
    const auditRow = conn.prepare("SELECT body FROM audit WHERE id = ?");
    const snapshotRow = conn.prepare("SELECT 1 FROM snapshots WHERE id = ?");
    let lost = 0;
    let withoutAudit = 0;
    for (const a of acked) {
      if (a.kind === "snapshot") {
        if (!snapshotRow.get(a.id)) lost += 1;
        continue;
      }
      const row = actionRow.get(a.id) as { body: Buffer } | undefined;
      if (!row) {
        lost += 1;
        continue;
      }
      const action = fromBinary(ActionSchema, row.body);
      const audit = auditRow.get(action.auditId) as { body: Buffer } | undefined;
      const record = audit && fromBinary(AuditRecordSchema, audit.body);
      if (!record || record.result !== action.status || record.outcome !== action.outcome)
        withoutAudit += 1;
    }
    const stillRunning = (conn.prepare("SELECT body FROM actions").all() as { body: Buffer }[])
      .map((r) => fromBinary(ActionSchema, r.body))
      .filter((a) => a.status === ActionStatus.RUNNING).length;
    // Repeating acknowledged ids returns the same action and audit record.
    let idempotent = true;
    for (const a of acked.filter((x) => x.kind === "action").slice(-3)) {
      // A lost action is new to the gateway, and refused until the agent is back.
      const again = await control
        .cancelSession({
          actionId: a.id,
          workerId: "crash-w",
          sessionId: `no-such-session-${a.id.split("-").at(-1) ?? ""}`,
          reason: "crash trial",
        })
        .catch(() => undefined);
      if (again?.action?.auditId !== a.auditId) idempotent = false;
    }
    return { lost, withoutAudit, stillRunning, integrity, idempotent };
  } finally {
    conn.close();
  }
}
