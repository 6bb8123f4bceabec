import { describe, expect, it } from "vitest";
import { demoBanner } from "./demo-banner.js";

const ESC = String.fromCharCode(27);
const plain = (text: string) =>
  text
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, "")))
    .join("");

describe("demoBanner (issue 11, bug 10)", () => {
  it("says where the dashboard is, how to act, what to look for and where the logs go", () => {
    const text = plain(
      demoBanner({
        url: "http://127.0.0.1:8080/",
        operatorUrl: "http://127.0.0.1:8080/#operator-token=abc",
        scenario: "incident",
        workers: 6,
        logFile: ".stallwatch/demo.log",
      }),
    );
    expect(text).toMatch(/Dashboard +http:\/\/127\.0\.0\.1:8080\/\n/);
    expect(text).toMatch(/As operator +http:\/\/127\.0\.0\.1:8080\/#operator-token=abc/);
    expect(text).toMatch(/demo-1 +a session hung in user code/);
    expect(text).toMatch(/demo-5 +a Beam SDK harness/);
    // Every worker the fleet page will show is named (the merge added two).
    expect(text).toMatch(/demo-beam-java +/);
    expect(text).toMatch(/demo-beam-go +/);
    expect(text).toMatch(/Logs +\.stallwatch\/demo\.log \(JSON\)/);
    expect(text).toContain("Ctrl-C stops");
    expect(text).toMatch(/demo-py +the Python reference worker .*recv_into/);
    // Short enough to see at once.
    expect(text.split("\n").length).toBeLessThan(25);
  });

  it("says when the demo runs without its Python worker, and why (issue 21)", () => {
    for (const scenario of ["incident", "calm"]) {
      const text = plain(
        demoBanner({
          url: "http://127.0.0.1:8080/",
          operatorUrl: "http://127.0.0.1:8080/#operator-token=abc",
          scenario,
          workers: 6,
          logFile: undefined,
          pythonProblem: "/usr/bin/python3 is not available here",
        }),
      );
      expect(text).toMatch(/demo-py +not started: \/usr\/bin\/python3 is not available here/);
    }
  });
});
