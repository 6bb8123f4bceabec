import { describe, expect, it } from "vitest";
import { formatBeamStatus, parseBeamStatus } from "./status-text.js";

// Shaped like the Python SDK's worker_status output (sections, banners, grouping).
const PYTHON_SDK_SAMPLE = `========== CACHE STATS ==========
used/max 0/100 MB, hit 0.00%, lookups 0, evictions 0
==============================
========== ACTIVE PROCESSING BUNDLES ==========
---- Instruction bundle_42 ----
ProcessBundleDescriptorId: 1-7
tracked thread: <Thread(Thread-12, started daemon 140)>
time since transition: 312.50 seconds
---- Instruction bundle_43 ----
ProcessBundleDescriptorId: 1-8
tracked thread: <Thread(Thread-13, started daemon 141)>
time since transition: 0.25 seconds
==============================
========== THREAD DUMP ==========
--- Thread #140 name: Thread-12 ---
  File "/usr/lib/python3.11/threading.py", line 995, in _bootstrap
    self._bootstrap_inner()
  File "/app/udf.py", line 17, in process
    data = sock.recv_into(buf)
--- Thread #200 name: worker-1 and other 2 threads---
threads: [(200, 'worker-1'), (201, 'worker-2'), (202, 'worker-3')]
  File "/usr/lib/python3.11/threading.py", line 320, in wait
    waiter.acquire()
==============================`;

describe("parseBeamStatus", () => {
  it("parses sections, bundles and grouped threads, innermost frame first", () => {
    const parsed = parseBeamStatus(PYTHON_SDK_SAMPLE);
    expect(parsed.sections.map((s) => s.title)).toEqual([
      "CACHE STATS",
      "ACTIVE PROCESSING BUNDLES",
      "THREAD DUMP",
    ]);
    expect(parsed.bundles).toEqual([
      {
        instructionId: "bundle_42",
        descriptorId: "1-7",
        trackedThread: "<Thread(Thread-12, started daemon 140)>",
        timeSinceTransitionSec: 312.5,
      },
      expect.objectContaining({ instructionId: "bundle_43", timeSinceTransitionSec: 0.25 }),
    ]);
    expect(parsed.threads).toHaveLength(2);
    expect(parsed.threads[0]).toEqual({
      threadId: "140",
      name: "Thread-12",
      members: [{ ident: "140", name: "Thread-12" }],
      frames: ["process (/app/udf.py:17)", "_bootstrap (/usr/lib/python3.11/threading.py:995)"],
    });
    expect(parsed.threads[1]?.members.map((m) => m.name)).toEqual([
      "worker-1",
      "worker-2",
      "worker-3",
    ]);
  });

  it("never throws on text it does not know, and counts what it could not place", () => {
    const parsed = parseBeamStatus("goroutine 1 [running]:\nmain.main()\n");
    expect(parsed.threads).toEqual([]);
    expect(parsed.bundles).toEqual([]);
    expect(parsed.unparsed).toBeGreaterThan(0);
    expect(parseBeamStatus("").threads).toEqual([]);
  });

  it("round-trips what formatBeamStatus writes", () => {
    const text = formatBeamStatus({
      bundles: [
        {
          instructionId: "s-1",
          descriptorId: "udf:hang",
          trackedThread: "udf-1",
          timeSinceTransitionSec: 38,
        },
      ],
      threads: [
        { ident: "1", name: "main", frames: [{ fn: "poll", file: "node:internal", line: 1 }] },
        {
          ident: "2",
          name: "udf-1",
          frames: [
            { fn: "recv_into", file: "ssl.js", line: 9 },
            { fn: "run", file: "udf.js", line: 3 },
          ],
        },
        {
          ident: "3",
          name: "udf-2",
          frames: [
            { fn: "recv_into", file: "ssl.js", line: 9 },
            { fn: "run", file: "udf.js", line: 3 },
          ],
        },
      ],
    });
    const parsed = parseBeamStatus(text);
    expect(parsed.bundles[0]).toMatchObject({ instructionId: "s-1", timeSinceTransitionSec: 38 });
    expect(parsed.threads).toHaveLength(2);
    expect(parsed.threads[1]).toMatchObject({
      name: "udf-1",
      members: [
        { ident: "2", name: "udf-1" },
        { ident: "3", name: "udf-2" },
      ],
      frames: ["recv_into (ssl.js:9)", "run (udf.js:3)"],
    });
  });

  it("round-trips grouped threads whose idents are not numbers and whose names hold quotes", () => {
    const frames = [{ fn: "wait", file: "pool.js", line: 4 }];
    const text = formatBeamStatus({
      bundles: [],
      threads: [
        { ident: "udf-1", name: "a", frames },
        { ident: "udf-2", name: "it's b\\c", frames },
        { ident: "7", name: "c", frames },
      ],
    });
    expect(parseBeamStatus(text).threads[0]?.members).toEqual([
      { ident: "udf-1", name: "a" },
      { ident: "udf-2", name: "it's b\\c" },
      { ident: "7", name: "c" },
    ]);
  });
});
