import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withWatchdog } from "./testing/watchdog.js";
import {
  AnnounceSchema,
  ConnectRequestSchema,
  StatusReportSchema,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { createRedactor } from "../redaction/redact.js";
import { AgentIngest, DEFAULT_INGEST_CAPS } from "./agent-ingest.js";

const SECRET = "hunter2hunter2";
const ingest = new AgentIngest(createRedactor());

function reportWithSecrets() {
  return create(StatusReportSchema, {
    requestId: "r1",
    error: `failed: password=${SECRET}`,
    sessions: [
      {
        sessionId: `s1 token=${SECRET}`,
        udfName: `udf --secret ${SECRET}`,
        taskContext: { password: SECRET, note: `Bearer ${SECRET}`, stage: "3" },
      },
    ],
    finished: [
      {
        sessionId: "f1",
        errorMessage: `postgres://u:${SECRET}@db/x`,
        taskContext: { API_KEY: SECRET },
      },
    ],
    dump: {
      threads: [
        {
          threadId: "t1",
          name: `w pwd=${SECRET}`,
          state: `blocked token=${SECRET}`,
          frames: [`f(password=${SECRET})`],
        },
      ],
    },
  });
}

describe("AgentIngest", () => {
  it("redacts secrets in every field of a status report", () => {
    const r = reportWithSecrets();
    ingest.statusReport(r);
    const text = Buffer.from(toBinary(StatusReportSchema, r)).toString("utf8");
    expect(text).not.toContain(SECRET);
    expect(r.sessions[0]?.taskContext).toEqual({
      password: "[REDACTED]",
      note: "Bearer [REDACTED]",
      stage: "3",
    });
    expect(r.finished[0]?.taskContext.API_KEY).toBe("[REDACTED]");
    expect(r.dump?.threads[0]?.state).toBe("blocked token=[REDACTED]");
  });

  it("cuts fat strings with a visible marker and drops items over the count caps", () => {
    const a = create(AnnounceSchema, { workerId: "w", host: "h".repeat(3 << 20) });
    const stats = ingest.announce(a);
    expect(a.host.length).toBeLessThan(400);
    expect(a.host).toMatch(/…\[truncated \d+ chars\]$/);
    expect(stats.truncatedStrings).toBe(1);

    const r = create(StatusReportSchema, {
      sessions: Array.from({ length: DEFAULT_INGEST_CAPS.maxSessions + 5 }, (_, i) => ({
        sessionId: `s${i}`,
      })),
      dump: {
        threads: Array.from({ length: DEFAULT_INGEST_CAPS.maxThreads + 1 }, () => ({
          frames: Array.from({ length: 300 }, () => "f"),
        })),
      },
    });
    ingest.statusReport(r);
    expect(r.sessions).toHaveLength(DEFAULT_INGEST_CAPS.maxSessions);
    expect(r.dump?.threads).toHaveLength(DEFAULT_INGEST_CAPS.maxThreads);
    expect(r.dump?.threads[0]?.frames).toHaveLength(DEFAULT_INGEST_CAPS.maxFramesPerThread + 1);
    expect(r.error).toMatch(/5 sessions dropped.*1 threads dropped/);
  });

  it("survives arbitrary agent messages decoded from random bytes (fuzzed, watchdog = test timeout)", () => {
    withWatchdog(15_000, () =>
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
          let message;
          try {
            message = fromBinary(ConnectRequestSchema, bytes);
          } catch {
            return; // not a message: the gRPC layer refuses it before us
          }
          const m = message.message;
          if (m.case === "status") ingest.statusReport(m.value);
          else if (m.case === "announce") ingest.announce(m.value);
          else if (m.case === "commandResult") ingest.commandResult(m.value);
        }),
        { numRuns: 2000 },
      ),
    );
  }, 30_000);

  it("keeps every string under its cap for any report (fuzzed)", () => {
    const str = fc.string({ maxLength: 6000 });
    withWatchdog(15_000, () =>
      fc.assert(
        fc.property(str, str, fc.array(str, { maxLength: 300 }), (name, err, frames) => {
          const r = create(StatusReportSchema, {
            error: err,
            dump: { threads: [{ name, frames }] },
            sessions: [{ sessionId: name, taskContext: { [name]: err } }],
          });
          ingest.statusReport(r);
          const t = r.dump?.threads[0];
          expect(t?.name.length).toBeLessThanOrEqual(DEFAULT_INGEST_CAPS.maxShort + 40);
          for (const f of t?.frames ?? [])
            expect(f.length).toBeLessThanOrEqual(DEFAULT_INGEST_CAPS.maxText + 40);
          expect(r.error.length).toBeLessThanOrEqual(DEFAULT_INGEST_CAPS.maxText + 120);
        }),
        { numRuns: 300 },
      ),
    );
  }, 30_000);

  it("handles 1 MiB of a, a 1 MiB line of = and deep brackets in one message", () => {
    const mib = 1 << 20;
    const r = create(StatusReportSchema, {
      error: "a".repeat(mib),
      dump: {
        threads: [{ name: "=".repeat(mib), frames: ["[".repeat(mib / 2) + "]".repeat(mib / 2)] }],
      },
    });
    const stats = ingest.statusReport(r);
    expect(stats.truncatedStrings).toBe(3);
  }, 20_000);
});
