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

/** Lower is worse: the fleet is sorted worst first. */
export const LIVENESS_SEVERITY: Record<Liveness, number> = {
  [Liveness.UNRESPONSIVE]: 0,
  [Liveness.GONE]: 1,
  [Liveness.LATE]: 2,
  [Liveness.DRAINING]: 3,
  [Liveness.UNSPECIFIED]: 4,
  [Liveness.HEALTHY]: 5,
  [Liveness.EXITED]: 6,
};

export const KIND_LABEL: Record<WorkerKind, string> = {
  [WorkerKind.UNSPECIFIED]: "unknown",
  [WorkerKind.SPARK]: "Spark",
  [WorkerKind.BEAM]: "Beam",
  [WorkerKind.AGENT]: "agent",
};

/** Every liveness, worst first. */
export const LIVENESS_ORDER: Liveness[] = [
  Liveness.UNRESPONSIVE,
  Liveness.GONE,
  Liveness.LATE,
  Liveness.DRAINING,
  Liveness.UNSPECIFIED,
  Liveness.HEALTHY,
  Liveness.EXITED,
];
