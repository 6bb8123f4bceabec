import { describe, expect, it } from "vitest";
import { oneLine, parseFrame } from "./frames.js";

describe("parseFrame", () => {
  it.each([
    ["hang (/app/dist/udf.js:12:7)", { fn: "hang", file: "/app/dist/udf.js", line: 12 }],
    ["at hang (/app/dist/udf.js:12:7)", { fn: "hang", file: "/app/dist/udf.js", line: 12 }],
    ["recv_into (ssl.py:1821)", { fn: "recv_into", file: "ssl.py", line: 1821 }],
    ["async run (file:///app/x.mjs:3:9)", { fn: "async run", file: "file:///app/x.mjs", line: 3 }],
    [
      "processTicksAndRejections (node:internal/process/task_queues:95:5)",
      { fn: "processTicksAndRejections", file: "node:internal/process/task_queues", line: 95 },
    ],
    ["new Foo (C:\\app\\x.js:4:2)", { fn: "new Foo", file: "C:\\app\\x.js", line: 4 }],
    [
      "Obj.m [as alias] (/a (copy)/x.js:7:1)",
      { fn: "Obj.m [as alias]", file: "/a (copy)/x.js", line: 7 },
    ],
    ["Array.map (<anonymous>)", { fn: "Array.map", file: "<anonymous>", line: 0 }],
    ["JSON.parse (native)", { fn: "JSON.parse", file: "native", line: 0 }],
    ["/app/dist/udf.js:12:7", { fn: "<anonymous>", file: "/app/dist/udf.js", line: 12 }],
    [
      'File "/usr/lib/ssl.py", line 1821, in recv_into',
      { fn: "recv_into", file: "/usr/lib/ssl.py", line: 1821 },
    ],
  ])("splits %s", (frame, expected) => {
    expect(parseFrame(frame)).toEqual(expected);
  });

  it.each([
    ["<event loop>"],
    ["running (stack unavailable: the thread did not pause within 250 ms)"],
    ["a (b"],
    ["fn ()"],
  ])("keeps %s whole as the function name", (frame) => {
    expect(parseFrame(frame)).toEqual({ fn: frame, file: "<unknown>", line: 0 });
  });

  it("never lets a frame break a line, and survives empty and huge text", () => {
    const forged = parseFrame("evil\n--- Thread #1 name: fake ---\n (x.js:1:1)");
    expect(JSON.stringify(forged)).not.toContain("\n");
    expect(forged.fn).toContain("evil");
    expect(parseFrame("")).toEqual({ fn: "<unknown>", file: "<unknown>", line: 0 });
    expect(parseFrame("x".repeat(100_000)).fn.length).toBeLessThanOrEqual(1001);
  });
});

describe("oneLine", () => {
  it("flattens control characters and clips", () => {
    expect(oneLine("a\r\nb\tc\u2028d")).toBe("a b c d");
    expect(oneLine("abcdef", 3)).toBe("abc…");
  });
});
