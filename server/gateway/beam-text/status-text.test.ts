import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBeamStatus } from "./status-text.js";

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url)).toString("utf8");
const PYTHON = fixture("python-sdk-status.txt");
const JAVA = fixture("java-sdk-status.txt");
const GO = fixture("go-sdk-status.bin");

const notIdle = (p: ReturnType<typeof parseBeamStatus>) =>
  p.threads.filter((t) => !t.idle && !t.statusHandler).map((t) => t.name);

describe("Python SDK fixture (captured from Beam's FnApiWorkerStatusHandler)", () => {
  const p = parseBeamStatus(PYTHON);

  it("finds the lower-case bundle and links it to the thread by ident", () => {
    expect(p.format).toBe("python");
    expect(p.bundles).toEqual([
      {
        instructionId: "instruction-42",
        descriptorId: "descriptor-7",
        trackedThread: "<Thread(pod-launcher-sync, started daemon 139630259205824)>",
        trackedThreadKey: "139630259205824",
        timeSinceTransitionSec: 8.39,
      },
    ]);
    const tracked = p.threads.find((t) => t.threadId === "139630259205824");
    expect(tracked?.name).toBe("pod-launcher-sync");
  });

  it("keeps source lines, innermost frame first", () => {
    const t = p.threads.find((x) => x.name === "pod-launcher-sync");
    expect(t?.frames[0]).toBe(
      "stuck_in_recv (/opt/pipeline/launcher.py:28) — chunk = sock.recv(1)",
    );
    expect(t?.frames).toHaveLength(4);
  });

  it("classifies idle threads and the status handler, leaving only the stuck thread", () => {
    expect(p.threads).toHaveLength(6);
    expect(p.threads.find((t) => t.name === "fn_api_status_handler")?.statusHandler).toBe(true);
    expect(notIdle(p)).toEqual(["pod-launcher-sync"]);
    expect(p.unparsed).toBe("");
    expect(p.sections).toEqual(["ACTIVE PROCESSING BUNDLES", "THREAD DUMP"]);
  });

  it("reads CRLF line endings the same", () => {
    const crlf = parseBeamStatus(PYTHON.replace(/\n/g, "\r\n"));
    expect(crlf.bundles).toEqual(p.bundles);
    expect(crlf.threads).toEqual(p.threads);
  });

  it("reads 'no active processing bundles'", () => {
    const text = PYTHON.replace(
      /--- instruction[\s\S]*?seconds\n\n/,
      "No active processing bundles.\n",
    );
    const q = parseBeamStatus(text);
    expect(q.bundles).toEqual([]);
    expect(q.threads).toHaveLength(6);
    expect(q.unparsed).toBe("");
  });

  it("expands 'and other N threads' groups, with and without the threads: line", () => {
    const grouped = PYTHON.replace(
      "--- Thread #139629697156800 name: Thread-4 (_run) ---",
      "--- Thread #139629697156800 name: Thread-4 (_run) and other 2 threads---\n" +
        "threads: [(139629697156800, 'Thread-4 (_run)'), (11, \"it's\"), (12, 'x\\'y')]",
    );
    const q = parseBeamStatus(grouped);
    expect(
      q.threads
        .filter((t) => t.frames[0]?.startsWith("channel_spin"))
        .map((t) => [t.threadId, t.name]),
    ).toEqual([
      ["139629697156800", "Thread-4 (_run)"],
      ["11", "it's"],
      ["12", "x'y"],
    ]);
    const noList = parseBeamStatus(
      PYTHON.replace("name: Thread-4 (_run) ---", "name: Thread-4 (_run) and other 3 threads---"),
    );
    expect(noList.threads.find((t) => t.name === "3 more threads like Thread-4 (_run)")?.idle).toBe(
      true,
    );
  });

  it("keeps an unknown section visible", () => {
    const q = parseBeamStatus(
      `========== SOMETHING NEW ==========\nflux: 3\n${"=".repeat(30)}\n${PYTHON}`,
    );
    expect(q.format).toBe("python");
    expect(q.unparsed).toContain("[SOMETHING NEW]");
    expect(q.unparsed).toContain("flux: 3");
    expect(q.threads).toHaveLength(6);
  });
});

describe("Java SDK fixture (BeamFnStatusClient format)", () => {
  const p = parseBeamStatus(JAVA);

  it("reads capitalised bundles, linked by thread name", () => {
    expect(p.format).toBe("java");
    expect(
      p.bundles.map((b) => [b.instructionId, b.trackedThreadKey, b.timeSinceTransitionSec]),
    ).toEqual([
      ["17", "pool-3-thread-2", 412.87],
      ["21", "pool-3-thread-5", 0.42],
    ]);
  });

  it("expands thread groups with their real states", () => {
    expect(p.threads.map((t) => [t.threadId, t.state, t.idle])).toEqual([
      ["grpc-default-executor-0", "TIMED_WAITING", true],
      ["grpc-default-executor-1", "TIMED_WAITING", true],
      ["grpc-default-executor-2", "TIMED_WAITING", true],
      ["grpc-default-executor-3", "TIMED_WAITING", true],
      ["pool-3-thread-2", "RUNNABLE", false],
      ["pool-3-thread-5", "RUNNABLE", false],
      ["MemoryMonitor", "TIMED_WAITING", true],
    ]);
    expect(p.threads[4]?.frames[0]).toBe(
      "java.base@17.0.12/sun.nio.ch.SocketDispatcher.read0(Native Method)",
    );
    expect(p.threads[4]?.frames).toHaveLength(15);
    expect(p.unparsed).toBe("");
    expect(p.sections).toEqual([
      "MEMORY USAGE",
      "CACHE STATS",
      "ACTIVE PROCESSING BUNDLES",
      "THREAD DUMP",
    ]);
  });

  it("reads Java 21's Thread[#id,name,prio,group], keyed by #id", () => {
    const j21 = JAVA.replace(
      /Thread\[pool-3-thread-2,5,main\]/,
      "Thread[#31,pool-3-thread-2,5,main]",
    );
    const t = parseBeamStatus(j21).threads.find((x) => x.name === "pool-3-thread-2");
    expect(t?.threadId).toBe("#31");
  });

  it("reads no bundles and CRLF", () => {
    const text = JAVA.replace(
      /---- Instruction 17[\s\S]*?0\.42 seconds/,
      "No active processing bundles.",
    ).replace(/\n/g, "\r\n");
    const q = parseBeamStatus(text);
    expect(q.bundles).toEqual([]);
    expect(q.threads).toHaveLength(7);
    expect(q.unparsed).toBe("");
  });
});

describe("Go SDK fixture (runtime.Stack, 64 KiB with NUL padding)", () => {
  const p = parseBeamStatus(GO);

  it("reads goroutines with their states and minutes, and no bundles", () => {
    expect(GO.length).toBe(65536);
    expect(p.format).toBe("go");
    expect(p.bundles).toEqual([]);
    expect(
      p.threads.map((t) => [t.threadId, t.state, t.idle, t.statusHandler, t.blockedForMs]),
    ).toEqual([
      ["goroutine 41", "running", false, true, undefined],
      ["goroutine 1", "select", true, false, undefined],
      ["goroutine 57", "IO wait, 7 minutes", false, false, 420_000],
      ["goroutine 12", "chan receive, 7 minutes", true, false, 420_000],
    ]);
    expect(p.threads[2]?.frames[0]).toBe(
      "internal/poll.runtime_pollWait(0x7f0c1c2a6e48, 0x72) (/usr/local/go/src/runtime/netpoll.go:351)",
    );
    expect(p.unparsed).toBe("");
  });

  it("keeps a goroutine cut mid-frame", () => {
    const cutAt = GO.indexOf("/src/pipeline/podlauncher/client.go");
    const q = parseBeamStatus(GO.slice(0, cutAt));
    const g = q.threads.find((t) => t.threadId === "goroutine 57");
    expect(g?.frames.at(-1)).toContain("podlauncher.(*Client).AwaitReady");
    expect(q.threads).toHaveLength(3);
  });
});

describe("text no parser knows", () => {
  it("is kept as unparsed, with no threads or bundles", () => {
    const p = parseBeamStatus("hello\nworld\n");
    expect(p.format).toBe("unknown");
    expect(p.threads).toEqual([]);
    expect(p.bundles).toEqual([]);
    expect(p.unparsed).toBe("hello\nworld");
    expect(parseBeamStatus("").threads).toEqual([]);
  });

  it("caps threads, frames and unparsed text", () => {
    const many = Array.from(
      { length: 50 },
      (_, i) => `goroutine ${i} [running]:\nmain.f()\n\tx.go:1 +0x1\n`,
    ).join("\n");
    const p = parseBeamStatus(many, {
      maxChars: 1 << 20,
      maxLineChars: 100,
      maxThreads: 10,
      maxFramesPerThread: 5,
      maxUnparsedChars: 50,
    });
    expect(p.threads).toHaveLength(10);
    expect(p.cut.threads).toBe(40);
    const u = parseBeamStatus("x".repeat(500) + "\n" + "y\n".repeat(100), {
      maxChars: 1 << 20,
      maxLineChars: 100,
      maxThreads: 10,
      maxFramesPerThread: 5,
      maxUnparsedChars: 50,
    });
    expect(u.unparsed.length).toBeLessThan(120);
    expect(u.cut.lines).toBe(1);
    expect(u.unparsedLines).toBe(101);
  });
});
