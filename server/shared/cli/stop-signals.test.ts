import { describe, expect, it } from "vitest";
import { SAME_REQUEST_MS, StopSignals } from "./stop-signals.js";

describe("StopSignals", () => {
  const at = (times: number[]) => {
    let i = 0;
    const signals = new StopSignals(() => times[i++] ?? Number.NaN);
    return times.map(() => signals.judge());
  };

  it("stops on the first signal", () => {
    expect(at([5])).toEqual(["stop"]);
  });

  it("takes a Ctrl-C that reaches us twice (the group's and a parent's forward) for one request", () => {
    expect(at([0, 32, 400])).toEqual(["stop", "same-request", "same-request"]);
  });

  it("exits now on a signal after the window, however many came within it", () => {
    expect(at([0, 10, SAME_REQUEST_MS, SAME_REQUEST_MS + 5000])).toEqual([
      "stop",
      "same-request",
      "exit-now",
      "exit-now",
    ]);
  });
});
