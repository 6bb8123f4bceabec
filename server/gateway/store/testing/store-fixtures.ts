import { pino } from "pino";

/** A logger that says nothing, for stores opened by tests and test harnesses. */
export const silentLog = pino({ level: "silent" });

/** The retention a test store runs with: long enough that nothing expires mid-test. */
export const retention = {
  snapshotsMs: 30 * 86_400_000,
  eventsMs: 7 * 86_400_000,
  auditMs: 90 * 86_400_000,
};
