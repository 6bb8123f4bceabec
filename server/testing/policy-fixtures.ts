import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb.js";
import { engineSays } from "../engine/execute-driver.js";
import { arrowBatch, clientsFor, openSession } from "./protocol-fixtures.js";
import type { apiClients } from "./api-clients.js";
import { pollUntil } from "./poll.js";

/** Writes `text` as a policy file in a new temporary directory; returns its path. */
export function writePolicyFile(text: string, name = "policies.yaml"): string {
  const path = join(mkdtempSync(join(tmpdir(), "stallwatch-policies-")), name);
  writeFileSync(path, text);
  return path;
}

/** A cancel-session policy on workers named `prefix*`, matching 2 s of processing without progress. */
export function hungPolicy(
  name: string,
  mode: "enforce" | "dry-run",
  prefix: string,
  extra = "",
): string {
  return `  - name: ${name}
    mode: ${mode}
    match:
      session_states: [processing]
      in_state_for: 2s
      no_progress_for: 2s
      selector: "worker_id=${prefix}*"
    action: cancel-session
${extra}`;
}

/**
 * Opens a session running the `hang` UDF on the worker at `address` and
 * waits until the gateway reports it; resolves with its id and its driver.
 */
export async function hangSession(
  api: ReturnType<typeof apiClients>,
  workerId: string,
  address: string,
  seen: Set<string> = new Set(),
) {
  const { udf } = clientsFor(address);
  const { driver } = await openSession(udf, { fn: "hang" });
  driver.send(engineSays.data(arrowBatch([1n])));
  const sessionId = await pollUntil(
    async () => {
      const sessions = (await api.fleet.getWorker({ workerId })).detail?.sessions ?? [];
      return sessions.find((x) => x.session?.sessionId && !seen.has(x.session.sessionId))?.session
        ?.sessionId;
    },
    { timeoutMs: 20_000, what: `a hung session on ${workerId} to be reported` },
  );
  seen.add(sessionId);
  return { driver, sessionId };
}

/** The gateway's /metrics text. */
export async function metricsText(http: string): Promise<string> {
  const res = await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** The audit record of policy `policy`'s action on `sessionId`, once that action has ended. */
export function policyActionEnded(
  api: ReturnType<typeof apiClients>,
  policy: string,
  sessionId: string,
  what = `policy ${policy}'s action to end`,
) {
  return pollUntil(
    async () =>
      (await api.control.listAudit({ actor: `policy:${policy}` })).records.find(
        (r) => r.sessionId === sessionId && r.result !== ActionStatus.RUNNING,
      ),
    { timeoutMs: 30_000, what },
  );
}
