import { describe, expect, it } from "vitest";
import type { Announce } from "../../../gen/stallwatch/v1/agent_pb.js";
import { Fleet } from "./fleet.js";
import type { WorkerKind } from "./tracked-worker.js";
import { expiredGoneWorkers, NEVER_ANSWERED_RETENTION_MS } from "./gone-workers.js";
import { systemClock } from "../../shared/clock/clock.js";

const HOUR = 3_600_000;

interface Row {
  id: string;
  kind: WorkerKind;
  /** What happened to it, in order, at these times (ms). */
  answeredAt?: number;
  goneAt?: number;
  agentConnected?: boolean;
}

function fleetOf(rows: Row[]): Fleet {
  const fleet = new Fleet({ clock: systemClock });
  for (const row of rows) {
    const worker = fleet.enroll(row.id, row.kind, `${row.id}:1`);
    if (row.agentConnected) fleet.agentConnected(worker, { workerId: row.id } as Announce);
    if (row.answeredAt !== undefined) fleet.beatAnswered(worker, row.answeredAt);
    if (row.goneAt !== undefined) fleet.connectionLost(worker, row.goneAt, "stream closed");
  }
  return fleet;
}

describe("expiredGoneWorkers", () => {
  it.each([
    {
      why: "a discovered worker gone past the retention",
      row: { id: "b", kind: "beam", goneAt: 1_000 },
      now: 31_000,
      expired: true,
    },
    {
      why: "a discovered worker gone for less",
      row: { id: "b", kind: "beam", goneAt: 50_000 },
      now: 60_000,
      expired: false,
    },
    {
      why: "a static target, however long gone",
      row: { id: "static", kind: "spark", goneAt: 1_000 },
      now: HOUR,
      expired: false,
    },
    {
      why: "a healthy worker",
      row: { id: "a", kind: "agent", answeredAt: 1_000 },
      now: HOUR,
      expired: false,
    },
    {
      why: "a gone worker whose agent is connected again",
      row: { id: "a", kind: "agent", answeredAt: 500, goneAt: 1_000, agentConnected: true },
      now: HOUR,
      expired: false,
    },
    {
      why: "an agent row that never answered, after a minute",
      row: { id: "junk", kind: "agent", goneAt: 1_000 },
      now: 1_000 + NEVER_ANSWERED_RETENTION_MS,
      expired: true,
    },
    {
      why: "an agent row that answered once, after a minute",
      row: { id: "real", kind: "agent", answeredAt: 500, goneAt: 1_000 },
      now: 1_000 + NEVER_ANSWERED_RETENTION_MS,
      expired: false,
    },
  ] satisfies { why: string; row: Row; now: number; expired: boolean }[])(
    "$why: expired=$expired",
    ({ row, now, expired }) => {
      const fleet = fleetOf([row]);
      const retention = row.kind === "beam" ? 30_000 : HOUR;
      expect(expiredGoneWorkers(fleet.all(), new Set(["static"]), retention, now)).toEqual(
        expired ? [row.id] : [],
      );
    },
  );
});
