import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { LIFELINE_ENV, stopWhenParentGoes } from "./parent-lifeline.js";

describe("parent lifeline", () => {
  it("stops once, when the parent's end of stdin closes", async () => {
    const stdin = new PassThrough();
    let stops = 0;
    expect(stopWhenParentGoes({ [LIFELINE_ENV]: "stdin" }, stdin, () => (stops += 1))).toBe(true);
    stdin.write("anything the parent says is ignored\n");
    await new Promise((r) => setImmediate(r));
    expect(stops).toBe(0);
    stdin.end();
    await new Promise((r) => setImmediate(r));
    stdin.destroy();
    await new Promise((r) => setImmediate(r));
    expect(stops).toBe(1);
  });

  it("is off unless the parent asked for it", () => {
    const stdin = new PassThrough();
    let stops = 0;
    expect(stopWhenParentGoes({}, stdin, () => (stops += 1))).toBe(false);
    stdin.end();
    expect(stops).toBe(0);
  });
});
