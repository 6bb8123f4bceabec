import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { killAllStarted, runStallwatch } from "./testing/spawn-stallwatch.js";
import { startTestGateway, testGatewayArgs } from "./testing/test-gateway.js";
import { startTestWorker } from "./testing/test-worker.js";

describe("stallwatch CLI", () => {
  afterAll(() => killAllStarted());

  it("prints help for the CLI and each command, exit 0", async () => {
    const top = await runStallwatch(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/worker\s+run the reference Spark UDF worker/);
    expect(top.stdout).toMatch(/gateway\s+watch workers/);
    for (const cmd of ["worker", "gateway"]) {
      const res = await runStallwatch([cmd, "--help"]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`Usage: stallwatch ${cmd}`);
    }
  });

  it.each([
    [["frobnicate"], /unknown command "frobnicate"/],
    [["worker"], /--listen HOST:PORT is required/],
    [["worker", "--listen", "nonsense"], /--listen: "nonsense" is not HOST:PORT/],
    [["worker", "--listen", "127.0.0.1:0", "--bogus"], /Unknown option '--bogus'/],
    [["gateway", "--worker", "127.0.0.1"], /--worker: "127.0.0.1" is not HOST:PORT/],
    [["gateway", "--worker", "127.0.0.1:0"], /--worker: "127.0.0.1:0": port must be 1-65535/],
    [["gateway", "--interval-ms", "soon"], /--interval-ms: expected a number/],
    [
      ["worker", "--listen", "127.0.0.1:0", "--log-format", "xml"],
      /--log-format: one of json, pretty/,
    ],
  ])("rejects %j with exit 2 and a clear message", async (args, message) => {
    const res = await runStallwatch(args);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
  });

  it("exits 2 naming the port when it is already in use", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const worker = await runStallwatch(["worker", "--listen", `127.0.0.1:${port}`]);
      expect(worker.code).toBe(2);
      expect(worker.stderr).toContain(`--listen: 127.0.0.1:${port} is already in use`);
      const gateway = await runStallwatch(testGatewayArgs({ http: `127.0.0.1:${port}` }));
      expect(gateway.code).toBe(2);
      expect(gateway.stderr).toContain(`--http: 127.0.0.1:${port} is already in use`);
    } finally {
      taken.close();
    }
  });

  it.each(["SIGINT", "SIGTERM"] as const)("stops cleanly with exit 0 on %s", async (signal) => {
    const worker = await startTestWorker();
    const gateway = await startTestGateway();
    worker.child.kill(signal);
    gateway.child.kill(signal);
    expect(await worker.exited).toBe(0);
    expect(await gateway.exited).toBe(0);
    expect(gateway.logs.some((l) => l.msg === "stopped")).toBe(true);
  });

  it("writes structured JSON logs", async () => {
    const worker = await startTestWorker({ id: "logs-1" });
    await worker.stop();
    expect(worker.listening).toMatchObject({ name: "worker", id: "logs-1", level: 30 });
    expect(typeof worker.listening.time).toBe("number");
  });
});
