import { Liveness, WorkerKind } from "../../gen/stallwatch/v1/fleet_pb";

/** The word shown for each liveness (never color alone). */
export const LIVENESS_LABEL: Record<Liveness, string> = {
  [Liveness.UNSPECIFIED]: "waiting",
  [Liveness.HEALTHY]: "healthy",
  [Liveness.LATE]: "late",
  [Liveness.UNRESPONSIVE]: "unresponsive",
  [Liveness.GONE]: "gone",
  [Liveness.DRAINING]: "draining",
  [Liveness.EXITED]: "exited",
};

export const KIND_LABEL: Record<WorkerKind, string> = {
  [WorkerKind.UNSPECIFIED]: "unknown",
  [WorkerKind.SPARK]: "Spark",
  [WorkerKind.BEAM]: "Beam",
  [WorkerKind.AGENT]: "agent",
};

/** Every liveness, worst first. */
export const LIVENESS_ORDER: readonly Liveness[] = [
  Liveness.UNRESPONSIVE,
  Liveness.GONE,
  Liveness.LATE,
  Liveness.DRAINING,
  Liveness.UNSPECIFIED,
  Liveness.HEALTHY,
  Liveness.EXITED,
];

/** Lower is worse (the fleet is sorted worst first): the place in LIVENESS_ORDER, so the two cannot disagree. */
export const LIVENESS_SEVERITY = Object.fromEntries(
  LIVENESS_ORDER.map((liveness, rank) => [liveness, rank]),
) as Record<Liveness, number>;
