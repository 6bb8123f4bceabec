import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ActionKind } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyMode } from "../../../gen/stallwatch/v1/policy_pb.js";
import { parsePolicyFile, PolicyFileError } from "./policy-file.js";
import { summarize } from "./policy-spec.js";

const GOOD = `
policies:
  - name: hung-etl
    mode: enforce
    match:
      session_states: [processing]
      in_state_for: 10m
      no_progress_for: 10m
      thread_not_moving_for: 5m
      worker_kinds: [agent]
      selector: "worker_id=etl-*, task_context.spark.app.name=nightly-*"
    action: cancel-session
    max_actions: 3
    window: 10m
  - name: drain-stuck
    match: { no_progress_for: 1h, selector: "worker_id=batch-?" }
    action: drain
`;

/** The problems a file gets, or [] when it parses. */
function problemsOf(text: string): string[] {
  try {
    parsePolicyFile(text, "p.yaml");
    return [];
  } catch (err) {
    if (err instanceof PolicyFileError) return err.problems;
    throw err;
  }
}

/** A one-policy file whose fields are `fields` (YAML flow mapping). */
const one = (fields: string) => `- { name: p, action: cancel-session, ${fields} }`;

describe("parsePolicyFile", () => {
  it("reads a valid file, with dry run, 10 actions and 10 minutes by default", () => {
    const [a, b] = parsePolicyFile(GOOD, "p.yaml");
    expect(a).toMatchObject({
      name: "hung-etl",
      mode: PolicyMode.ENFORCE,
      action: ActionKind.CANCEL_SESSION,
      maxActions: 3,
      windowMs: 600_000,
      match: {
        sessionStates: ["processing"],
        inStateForMs: 600_000,
        noProgressForMs: 600_000,
        threadNotMovingForMs: 300_000,
        workerKinds: ["agent"],
        selectorText: "worker_id=etl-*, task_context.spark.app.name=nightly-*",
      },
    });
    expect(b).toMatchObject({
      mode: PolicyMode.DRY_RUN,
      action: ActionKind.DRAIN_WORKER,
      maxActions: 10,
      windowMs: 600_000,
    });
    expect(a && summarize(a)).toBe(
      "cancel a session in processing for ≥ 10 min with no progress for ≥ 10 min and its thread not moving for ≥ 5 min on agent workers where worker_id=etl-*, task_context.spark.app.name=nightly-*; at most 3 per 10 min",
    );
  });

  it("reads JSON too, and a bare list", () => {
    const json = JSON.stringify({
      policies: [
        {
          name: "j",
          action: "cancel-worker",
          match: { in_state_for: "90s", selector: "udf=slow*" },
        },
      ],
    });
    expect(parsePolicyFile(json, "p.json")[0]?.match.inStateForMs).toBe(90_000);
    expect(
      parsePolicyFile(one(`match: { in_state_for: 1h30m, selector: "worker_id=a" }`), "p")[0]?.match
        .inStateForMs,
    ).toBe(5_400_000);
  });

  it.each([
    [
      "a misspelt duration",
      one(`match: { no_progress_for: "10 minutez", selector: "worker_id=a" }`),
      `policies[0].match.no_progress_for: "10 minutez" is not a duration (use 90s, 10m, 1h)`,
    ],
    [
      "a bare number as a duration",
      one(`match: { in_state_for: 10, selector: "worker_id=a" }`),
      "policies[0].match.in_state_for: 10 is not a duration",
    ],
    [
      "a missing selector",
      one(`match: { in_state_for: 10m }`),
      "policies[0].match.selector: missing: the policy would match every worker",
    ],
    [
      "a selector matching everything",
      one(`match: { in_state_for: 10m, selector: "worker_id=*" }`),
      `policies[0].match.selector: "worker_id=*" matches every worker`,
    ],
    [
      "an empty selector",
      one(`match: { in_state_for: 10m, selector: " , " }`),
      `policies[0].match.selector: " , " matches every worker`,
    ],
    [
      "no duration at all",
      one(`match: { selector: "worker_id=a" }`),
      "policies[0].match: no duration",
    ],
    [
      "an unknown match key",
      one(`match: { in_state_for: 10m, selector: "worker_id=a", no_progres_for: 1m }`),
      `policies[0].match: unknown key "no_progres_for"`,
    ],
    [
      "an unknown policy key",
      one(`match: { in_state_for: 10m, selector: "worker_id=a" }, modes: enforce`),
      `policies[0]: unknown key "modes"`,
    ],
    [
      "an unknown mode",
      one(`mode: on, match: { in_state_for: 10m, selector: "worker_id=a" }`),
      `policies[0].mode: "on" is not a mode (off, dry-run, enforce)`,
    ],
    [
      "an unknown action",
      `- { name: p, action: kill, match: { in_state_for: 10m, selector: "worker_id=a" } }`,
      `policies[0].action: "kill" is not an action`,
    ],
    [
      "a missing action",
      `- { name: p, match: { in_state_for: 10m, selector: "worker_id=a" } }`,
      "policies[0].action: missing",
    ],
    [
      "an unknown state",
      one(`match: { session_states: [stuck], in_state_for: 10m, selector: "worker_id=a" }`),
      `policies[0].match.session_states: "stuck" is not a state`,
    ],
    [
      "an unknown worker kind",
      one(`match: { worker_kinds: [python], in_state_for: 10m, selector: "worker_id=a" }`),
      `policies[0].match.worker_kinds: "python" is not a kind`,
    ],
    [
      "a selector key it cannot read",
      one(`match: { in_state_for: 10m, selector: "host=a" }`),
      `policies[0].match.selector: unknown key "host"`,
    ],
    [
      "a selector term without =",
      one(`match: { in_state_for: 10m, selector: "etl-*" }`),
      `policies[0].match.selector: "etl-*" is not key=glob`,
    ],
    [
      "a zero cap",
      one(`max_actions: 0, match: { in_state_for: 10m, selector: "worker_id=a" }`),
      "policies[0].max_actions: 0 is not a whole number from 1 to 1000",
    ],
    [
      "a window too short",
      one(`window: 1s, match: { in_state_for: 10m, selector: "worker_id=a" }`),
      `policies[0].window: "1s" is outside 10s to 24h`,
    ],
    [
      "a bad name",
      `- { name: "a b", action: drain, match: { in_state_for: 10m, selector: "worker_id=a" } }`,
      `policies[0].name: "a b" is not a name`,
    ],
    [
      "a repeated name",
      `${one(`match: { in_state_for: 10m, selector: "worker_id=a" }`)}\n${one(`match: { in_state_for: 10m, selector: "worker_id=b" }`)}`,
      `the name "p" is used twice`,
    ],
    ["not YAML", "policies: [", "not YAML or JSON"],
    ["not a list", "policies: 3", "expected a list of policies"],
    ["an unknown top-level key", "rules: []", `unknown key "rules"`],
    [
      "too many policies",
      `policies:\n${Array.from({ length: 51 }, (_, i) => `  - { name: p${i} }`).join("\n")}`,
      "51 policies; at most 50",
    ],
  ])("refuses %s, naming the field", (_what, text, expected) => {
    const problems = problemsOf(text);
    expect(problems.join("\n")).toContain(expected);
  });

  it("allows a match-all policy only when told to", () => {
    const text = one(`allow_match_all: true, match: {}`);
    const [spec] = parsePolicyFile(text, "p");
    expect(spec?.allowMatchAll).toBe(true);
    expect(spec && summarize(spec)).toContain("on every worker");
  });

  it("refuses a file over its size cap before parsing it", () => {
    expect(problemsOf(`# ${"x".repeat(300_000)}\n[]`)[0]).toMatch(/larger than 262144 bytes/);
  });

  it("reads the demo's file: dry run only, so npm start never cancels the sessions e2e journeys use", () => {
    const path = new URL("../../demo/policies.yaml", import.meta.url);
    const specs = parsePolicyFile(readFileSync(path, "utf8"), "demo");
    expect(specs.length).toBeGreaterThan(0);
    expect(specs.every((s) => s.mode === PolicyMode.DRY_RUN)).toBe(true);
  });
});
