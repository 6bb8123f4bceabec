import { describe, expect, it } from "vitest";
import { parseFrame } from "./frame-text.js";

describe("parseFrame", () => {
  it("reads ours, Java's and Python's frame lines", () => {
    expect(parseFrame("blockForever (/app/udf-thread.js:72:9)")).toEqual({
      fn: "blockForever",
      file: "/app/udf-thread.js",
      line: 72,
    });
    expect(parseFrame("at java.net.SocketInputStream.read(SocketInputStream.java:171)")).toEqual({
      fn: "java.net.SocketInputStream.read",
      file: "SocketInputStream.java",
      line: 171,
    });
    // As the Beam text parser writes a Python frame: the source line after a dash.
    expect(
      parseFrame("stuck_in_recv (/opt/pipeline/launcher.py:28) — chunk = sock.recv(1)"),
    ).toEqual({ fn: "stuck_in_recv", file: "/opt/pipeline/launcher.py", line: 28 });
    expect(parseFrame('File "OpenSSL/SSL.py", line 1821, in recv_into')).toEqual({
      fn: "recv_into",
      file: "OpenSSL/SSL.py",
      line: 1821,
    });
  });

  it("keeps a line in no known shape whole, and stays linear on hostile input", () => {
    expect(parseFrame("<event loop>")).toEqual({ fn: "<event loop>", file: "", line: 0 });
    expect(parseFrame("a (".repeat(50_000)).fn.length).toBe(2000);
  });
});
