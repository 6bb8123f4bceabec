import { describe, expect, it } from "vitest";
import { AgentAdmission, AgentRefusal, AgentSlots, DEFAULT_ADMISSION } from "./agent-admission.js";
import { systemClock } from "../../shared/clock/clock.js";

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AgentRefusal ? err.reason : String(err);
  }
  return undefined;
};

describe("AgentAdmission", () => {
  it("without a token, admits loopback peers only", () => {
    const a = new AgentAdmission(DEFAULT_ADMISSION, systemClock);
    expect(reasonOf(() => a.admit("127.0.0.1", null))).toBeUndefined();
    expect(reasonOf(() => a.admit("::1", null))).toBeUndefined();
    expect(reasonOf(() => a.admit("10.1.2.3", null))).toBe("not_loopback");
  });

  it("with a token, requires it from everyone", () => {
    const a = new AgentAdmission(
      { ...DEFAULT_ADMISSION, agentToken: "0123456789abcdef" },
      systemClock,
    );
    expect(reasonOf(() => a.admit("10.1.2.3", "Bearer 0123456789abcdef"))).toBeUndefined();
    expect(reasonOf(() => a.admit("127.0.0.1", null))).toBe("token");
    expect(reasonOf(() => a.admit("127.0.0.1", "Bearer 0123456789abcdeX"))).toBe("token");
    expect(reasonOf(() => a.admit("127.0.0.1", "Bearer short"))).toBe("token");
  });

  it("limits the rate of new streams", () => {
    let now = 0;
    const a = new AgentAdmission(
      { ...DEFAULT_ADMISSION, maxNewAgentsPerSecond: 5 },
      { monotonic: () => now },
    );
    for (let i = 0; i < 10; i++) a.admit("127.0.0.1", null);
    expect(reasonOf(() => a.admit("127.0.0.1", null))).toBe("rate");
    now += 1000;
    expect(reasonOf(() => a.admit("127.0.0.1", null))).toBeUndefined();
  });

  it("fixes wildcard Manage hosts and refuses other hosts unless trusted", () => {
    const a = new AgentAdmission(DEFAULT_ADMISSION, systemClock);
    expect(a.manageAddress("0.0.0.0:7071", "10.0.0.5")).toBe("10.0.0.5:7071");
    expect(a.manageAddress("[::]:7071", "::1")).toBe("[::1]:7071");
    expect(a.manageAddress("localhost:7", "127.0.0.1")).toBe("localhost:7");
    expect(a.manageAddress("", "10.0.0.5")).toBe("");
    expect(reasonOf(() => a.manageAddress("10.9.9.9:7071", "10.0.0.5"))).toBe("address");
    expect(reasonOf(() => a.manageAddress("nope", "10.0.0.5"))).toBe("announce");
    const trusting = new AgentAdmission(
      { ...DEFAULT_ADMISSION, trustAnnouncedAddress: true },
      systemClock,
    );
    expect(trusting.manageAddress("10.9.9.9:7071", "10.0.0.5")).toBe("10.9.9.9:7071");
  });
});

describe("AgentSlots", () => {
  it("caps streams per connection and overall, and gives slots back", () => {
    const slots = new AgentSlots({ maxAgents: 3, maxAgentsPerConnection: 2 });
    const conn = {};
    const r1 = slots.take(conn);
    slots.take(conn);
    expect(reasonOf(() => slots.take(conn))).toBe("cap_connection");
    slots.take({});
    expect(reasonOf(() => slots.take({}))).toBe("cap_total");
    r1();
    r1();
    expect(slots.open).toBe(2);
    expect(reasonOf(() => slots.take(conn))).toBeUndefined();
  });
});
