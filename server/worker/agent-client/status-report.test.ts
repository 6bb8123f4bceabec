import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  StatusReportSchema,
  StatusRequestSchema,
  ThreadDumpSchema,
  ThreadSchema,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { fitReport, MAX_FINISHED, StatusReporter } from "./status-report.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { systemClock } from "../../shared/clock/clock.js";

const request = (includeThreads: boolean, maxFinished = 5) =>
  create(StatusRequestSchema, { requestId: "r-1", includeThreads, maxFinished });

const reporter = (source: FakeStatusSource, dumpDeadlineMs = 1000) =>
  new StatusReporter(source, { clock: systemClock, dumpDeadlineMs, maxReportBytes: 3 << 20 });

describe("StatusReporter", () => {
  it("echoes the request id with sessions, the newest finished sessions and the dump", async () => {
    const source = new FakeStatusSource(Date.now());
    const report = await reporter(source).report(request(true, 3));
    expect(report.requestId).toBe("r-1");
    expect(report.error).toBe("");
    expect(report.sessions.map((s) => s.sessionId)).toEqual(["s-hung", "s-busy"]);
    expect(report.sessions[0]?.taskContext).toEqual({ stage: "3", partition: "17" });
    expect(report.finished.map((f) => f.sessionId)).toEqual(["s-done-1", "s-done-2", "s-done-3"]);
    expect(report.dump?.threads.map((t) => t.threadId)).toEqual(["main-0", "udf-7", "udf-8"]);
  });

  it("leaves the dump out when not asked, and sends no finished sessions for max 0", async () => {
    const source = new FakeStatusSource(Date.now());
    const report = await reporter(source).report(request(false, 0));
    expect(report.dump).toBeUndefined();
    expect(report.finished).toEqual([]);
    expect(source.dumpCalls).toBe(0);
  });

  it("caps max_finished", async () => {
    const source = new FakeStatusSource(Date.now());
    let asked = -1;
    source.finished = (max) => {
      asked = max;
      return [];
    };
    await reporter(source).report(request(false, 1_000_000));
    expect(asked).toBe(MAX_FINISHED);
  });

  it("answers without the dump, saying why, when the dump fails or misses its deadline", async () => {
    const source = new FakeStatusSource(Date.now());
    source.dumpMode = "fail";
    const failed = await reporter(source).report(request(true));
    expect(failed.dump).toBeUndefined();
    expect(failed.sessions).toHaveLength(2);
    expect(failed.error).toMatch(/thread dump failed: inspector refused to attach/);

    source.dumpMode = "hang";
    const late = await reporter(source, 50).report(request(true));
    expect(late.dump).toBeUndefined();
    expect(late.sessions).toHaveLength(2);
    expect(late.error).toMatch(/thread dump not ready within 50 ms/);
  });

  it("shares one dump in progress among concurrent requests", async () => {
    const source = new FakeStatusSource(Date.now());
    source.dumpDelayMs = 50;
    const r = reporter(source);
    const reports = await Promise.all([r.report(request(true)), r.report(request(true))]);
    expect(source.dumpCalls).toBe(1);
    expect(reports.every((x) => x.dump?.threads.length === 3)).toBe(true);
  });

  it("names a throwing source in error and still reports the rest", async () => {
    const source = new FakeStatusSource(Date.now());
    source.sessionsFail = true;
    const report = await reporter(source).report(request(true));
    expect(report.sessions).toEqual([]);
    expect(report.dump?.threads).toHaveLength(3);
    expect(report.finished).toHaveLength(5);
    expect(report.error).toMatch(/sessions unavailable: session table unavailable/);
  });
});

describe("fitReport", () => {
  const bigReport = () => {
    const source = new FakeStatusSource(Date.now());
    return create(StatusReportSchema, {
      requestId: "r",
      sessions: source.live,
      finished: source.done,
      dump: create(ThreadDumpSchema, {
        threads: [
          create(ThreadSchema, {
            threadId: "deep",
            frames: Array.from({ length: 500 }, (_, i) => `f${i} (/x.js:${i}:1)`),
          }),
        ],
      }),
    });
  };
  const size = (r: ReturnType<typeof bigReport>) => toBinary(StatusReportSchema, r).length;

  it("leaves a report that fits alone", () => {
    const r = bigReport();
    expect(fitReport(r, size(r))).toBeUndefined();
    expect(r.dump?.threads[0]?.frames).toHaveLength(500);
  });

  it("cuts stacks first, marking the cut, without touching the dump it was given", () => {
    const r = bigReport();
    const given = r.dump;
    const cut = fitReport(r, size(r) - 100);
    expect(cut).toMatch(/stacks cut to 32 frames/);
    const frames = r.dump?.threads[0]?.frames ?? [];
    expect(frames).toHaveLength(33);
    expect(frames[32]).toMatch(/468 more frames cut/);
    expect(given?.threads[0]?.frames).toHaveLength(500);
    expect(r.sessions).toHaveLength(2);
  });

  it("then drops the dump, finished sessions, and live sessions, until it fits", () => {
    const r = bigReport();
    const cut = fitReport(r, 60);
    expect(cut).toMatch(/thread dump left out.*finished sessions left out.*sessions left out/);
    expect(r.dump).toBeUndefined();
    expect(size(r)).toBeLessThanOrEqual(60);
    expect(r.sessions.length).toBeLessThan(2);
  });
});
