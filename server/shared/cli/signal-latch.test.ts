import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { SignalLatch, type StopSignal } from "./signal-latch.js";

describe("SignalLatch", () => {
  it("keeps a signal that came before anyone listened, then passes the rest on as they come", () => {
    const process = new EventEmitter();
    const latch = new SignalLatch(process);
    process.emit("SIGTERM");
    const heard: StopSignal[] = [];
    latch.listen((signal) => heard.push(signal));
    expect(heard).toEqual(["SIGTERM"]);
    process.emit("SIGINT");
    expect(heard).toEqual(["SIGTERM", "SIGINT"]);
  });

  it("lets go of both signals on close", () => {
    const process = new EventEmitter();
    const latch = new SignalLatch(process);
    expect(process.listenerCount("SIGTERM")).toBe(1);
    latch.close();
    expect(process.listenerCount("SIGINT") + process.listenerCount("SIGTERM")).toBe(0);
  });
});
