import { describe, expect, it } from "vitest";
import { splitFrame } from "./frames.js";

describe("splitFrame", () => {
  it("splits V8-style frames", () => {
    expect(splitFrame("hang (/app/dist/udf.js:12:7)")).toEqual({
      fn: "hang",
      file: "/app/dist/udf.js",
      line: 12,
    });
    expect(splitFrame("recv_into (ssl.py:1821)")).toEqual({
      fn: "recv_into",
      file: "ssl.py",
      line: 1821,
    });
  });

  it("keeps anything else whole", () => {
    expect(splitFrame("<event loop>")).toEqual({ fn: "<event loop>", file: "<unknown>", line: 0 });
  });
});
