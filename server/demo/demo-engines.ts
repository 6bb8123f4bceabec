import type { DemoChildren } from "./demo-children.js";
import { INCIDENT } from "./demo-fleet.js";

/** `stallwatch engine` flags: its workers, the UDF, and how many sessions/batches or what rate. */
function engineArgs(workers: readonly string[], flags: Record<string, string> = {}): string[] {
  return [
    "engine",
    ...workers.flatMap((w) => ["--worker", w]),
    ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]),
  ];
}

/** One session of a UDF that never returns: it stays stalled until someone cancels it. */
const HUNG = { udf: '{"fn":"hang"}', sessions: "1" };

/**
 * Starts the engines: load on every worker not part of the incident and, in
 * the incident, the sessions that make it (hung, slow, spinning, and a hung
 * bundle on each Beam harness).
 */
export function startDemoEngines(
  children: DemoChildren,
  opts: {
    incident: boolean;
    ids: readonly string[];
    /** Every Beam harness: each gets one hung bundle. */
    beamIds: readonly string[];
    /** The Beam harnesses added beyond demo-1..N: they get no load (demo-5 does). */
    extraBeamIds: readonly string[];
    at: (id: string) => string;
  },
): void {
  const { at } = opts;
  const busy: string[] = [INCIDENT.slow, INCIDENT.spin, ...opts.extraBeamIds];
  const loaded = opts.incident ? opts.ids.filter((id) => !busy.includes(id)) : opts.ids;
  children.spawn("engine-load", engineArgs(loaded.map(at), { rate: "3", concurrency: "6" }));
  if (!opts.incident) return;
  children.spawn("engine-hang", engineArgs([at(INCIDENT.hang)], { ...HUNG, batches: "2" }));
  children.spawn(
    "engine-slow",
    engineArgs([at(INCIDENT.slow)], {
      udf: '{"fn":"slow","msPerBatch":4000}',
      rate: "0.3",
      concurrency: "2",
    }),
  );
  children.spawn(
    "engine-spin",
    engineArgs([at(INCIDENT.spin)], { udf: '{"fn":"spin"}', sessions: "1", batches: "1" }),
  );
  for (const id of opts.beamIds)
    children.spawn(`engine-${id}`, engineArgs([at(id)], { ...HUNG, batches: "1" }));
}

/**
 * The Python worker's engines: light load with UDFs it has (it has no Arrow,
 * so not the default mix) and, in the incident, one session that hangs in a
 * socket read, the way the py-spy story's scheduler did.
 */
export function startPythonEngines(
  children: DemoChildren,
  address: string,
  incident: boolean,
): void {
  children.spawn(
    "engine-py-load",
    engineArgs([address], {
      udf: '{"fn":"echo","weight":3}',
      rate: "1",
      concurrency: "2",
    }).concat(["--udf", '{"fn":"count"}', "--udf", '{"fn":"sleep","msPerBatch":300}']),
  );
  if (incident) children.spawn("engine-py-hang", engineArgs([address], { ...HUNG, batches: "2" }));
}
