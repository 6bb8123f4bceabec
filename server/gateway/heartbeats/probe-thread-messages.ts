/** What the main thread tells a probe thread. */
export type ToProbeThread =
  | { t: "add"; slot: number; host: string; port: number; delayMs: number }
  | { t: "remove"; slot: number }
  | { t: "now"; slot: number }
  | { t: "stop" };

/** A probe thread's `workerData`. */
export interface ProbeThreadConfig {
  intervalMs: number;
  deadlineMs: number;
  maxBackoffMs: number;
  tickMs: number;
  /** How often beat records are sent to the main thread, batched. */
  flushMs: number;
}
