import { parse as parseYaml } from "yaml";
import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { PolicyMode } from "../../../gen/stallwatch/v1/policy_pb.js";
import type { WorkerKind } from "../fleet/tracked-worker.js";
import { parseDuration } from "./duration.js";
import { POLICY_ACTIONS, POLICY_MODES, type PolicySpec } from "./policy-spec.js";
import { parseSelector, selectsEverything } from "./selector.js";

/** Caps: a policy file is operator input, but a typo must not cost memory or time. */
export const MAX_POLICY_FILE_BYTES = 256 << 10;
export const MAX_POLICIES = 50;
const NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;
const MAX_STATES = 8;
const MAX_ACTIONS = 1000;
const MIN_WINDOW_MS = 10_000;
const MAX_WINDOW_MS = 86_400_000;
/** Longest duration a match may ask for: a week. */
const MAX_MATCH_MS = 7 * 86_400_000;
const DEFAULT_WINDOW_MS = 10 * 60_000;
const DEFAULT_MAX_ACTIONS = 10;

const WORKER_KINDS: readonly WorkerKind[] = ["spark", "beam", "agent"];
/** Session states a match may name: SessionState without its prefix, lower case, and "stalled". */
const STATES = new Set([
  ...Object.keys(SessionState)
    .filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED")
    .map((k) => k.toLowerCase()),
  "stalled",
]);

const POLICY_KEYS = new Set([
  "name",
  "mode",
  "match",
  "action",
  "max_actions",
  "window",
  "allow_match_all",
]);
const MATCH_KEYS = new Set([
  "session_states",
  "in_state_for",
  "no_progress_for",
  "thread_not_moving_for",
  "worker_kinds",
  "selector",
]);

/** The policy file could not be used; `problems` each name their field. */
export class PolicyFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`policy file ${source}:\n  - ${problems.join("\n  - ")}`);
  }
}

const shown = (value: unknown): string => {
  const text =
    typeof value === "string"
      ? `"${value}"`
      : ((JSON.stringify(value) as string | undefined) ?? "undefined");
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};

/**
 * Reads and validates a policy file (YAML, or JSON, which YAML reads too):
 * either `policies: [...]` or the list itself. Every problem is collected
 * and thrown at once as a PolicyFileError, each naming its field
 * (`policies[1].match.no_progress_for: "10 minutez" is not a duration`).
 * Unknown keys are refused: a misspelt condition would silently match more.
 */
export function parsePolicyFile(text: string, source: string): PolicySpec[] {
  if (Buffer.byteLength(text) > MAX_POLICY_FILE_BYTES)
    throw new PolicyFileError(source, [`larger than ${MAX_POLICY_FILE_BYTES} bytes`]);
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new PolicyFileError(source, [
      `not YAML or JSON: ${(err as Error).message.split("\n")[0]}`,
    ]);
  }
  const list = isRecord(doc) ? doc.policies : doc;
  if (isRecord(doc)) {
    for (const key of Object.keys(doc))
      if (key !== "policies")
        throw new PolicyFileError(source, [
          `unknown key "${key.slice(0, 60)}" (expected "policies")`,
        ]);
  }
  if (!Array.isArray(list))
    throw new PolicyFileError(source, [
      'expected a list of policies, or an object with a "policies" list',
    ]);
  if (list.length > MAX_POLICIES)
    throw new PolicyFileError(source, [`${list.length} policies; at most ${MAX_POLICIES}`]);
  const problems: string[] = [];
  const specs = list.flatMap((item: unknown, i) => {
    const spec = readPolicy(item, `policies[${i}]`, problems);
    return spec ? [spec] : [];
  });
  const seen = new Set<string>();
  specs.forEach((s) => {
    if (seen.has(s.name)) problems.push(`policies: the name "${s.name}" is used twice`);
    seen.add(s.name);
  });
  if (problems.length > 0) throw new PolicyFileError(source, problems);
  return specs;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPolicy(item: unknown, at: string, problems: string[]): PolicySpec | undefined {
  if (!isRecord(item)) {
    problems.push(`${at}: expected an object with name, match and action`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(item))
    if (!POLICY_KEYS.has(key)) problems.push(`${at}: unknown key "${key.slice(0, 60)}"`);
  const name = item.name;
  if (typeof name !== "string" || !NAME.test(name))
    problems.push(
      `${at}.name: ${name === undefined ? "missing" : `${shown(name)} is not a name`} (1-64 letters, digits, _ . -, starting with a letter or digit)`,
    );
  const mode =
    item.mode === undefined
      ? PolicyMode.DRY_RUN
      : typeof item.mode === "string"
        ? POLICY_MODES[item.mode]
        : undefined;
  if (mode === undefined)
    problems.push(`${at}.mode: ${shown(item.mode)} is not a mode (off, dry-run, enforce)`);
  const action = typeof item.action === "string" ? POLICY_ACTIONS[item.action] : undefined;
  if (action === undefined)
    problems.push(
      `${at}.action: ${item.action === undefined ? "missing" : `${shown(item.action)} is not an action`} (cancel-session, cancel-worker, drain)`,
    );
  const maxActions = item.max_actions ?? DEFAULT_MAX_ACTIONS;
  if (
    typeof maxActions !== "number" ||
    !Number.isInteger(maxActions) ||
    maxActions < 1 ||
    maxActions > MAX_ACTIONS
  )
    problems.push(
      `${at}.max_actions: ${shown(maxActions)} is not a whole number from 1 to ${MAX_ACTIONS}`,
    );
  const windowMs =
    item.window === undefined
      ? DEFAULT_WINDOW_MS
      : readDuration(item.window, `${at}.window`, problems);
  if (windowMs !== undefined && (windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS))
    problems.push(`${at}.window: ${shown(item.window)} is outside 10s to 24h`);
  const allowMatchAll = item.allow_match_all ?? false;
  if (typeof allowMatchAll !== "boolean")
    problems.push(`${at}.allow_match_all: ${shown(allowMatchAll)} is not true or false`);
  const match = readMatch(item.match, `${at}.match`, allowMatchAll === true, problems);
  if (problems.length > before || !match || mode === undefined || action === undefined)
    return undefined;
  return {
    name: name as string,
    mode,
    match,
    action,
    maxActions: maxActions as number,
    windowMs: windowMs ?? DEFAULT_WINDOW_MS,
    allowMatchAll: allowMatchAll === true,
  };
}

function readDuration(value: unknown, at: string, problems: string[]): number | undefined {
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) {
    problems.push(`${at}: ${shown(value)} is not a duration (use 90s, 10m, 1h)`);
    return undefined;
  }
  if (ms <= 0 || ms > MAX_MATCH_MS) {
    problems.push(`${at}: ${shown(value)} is outside 1ms to 7d`);
    return undefined;
  }
  return ms;
}

function readList(value: unknown, at: string, problems: string[]): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : value;
  if (
    !Array.isArray(list) ||
    !list.every((v) => typeof v === "string") ||
    list.length > MAX_STATES
  ) {
    problems.push(`${at}: expected a list of at most ${MAX_STATES} words`);
    return [];
  }
  return list;
}

function readMatch(
  value: unknown,
  at: string,
  allowMatchAll: boolean,
  problems: string[],
): PolicySpec["match"] | undefined {
  if (!isRecord(value)) {
    problems.push(
      `${at}: ${value === undefined ? "missing" : "expected an object"} (session_states, in_state_for, no_progress_for, thread_not_moving_for, worker_kinds, selector)`,
    );
    return undefined;
  }
  for (const key of Object.keys(value))
    if (!MATCH_KEYS.has(key)) problems.push(`${at}: unknown key "${key.slice(0, 60)}"`);
  const sessionStates = readList(value.session_states, `${at}.session_states`, problems).map((s) =>
    s.toLowerCase(),
  );
  for (const state of sessionStates)
    if (!STATES.has(state))
      problems.push(
        `${at}.session_states: "${state.slice(0, 60)}" is not a state (${[...STATES].join(", ")})`,
      );
  const workerKinds = readList(value.worker_kinds, `${at}.worker_kinds`, problems);
  for (const kind of workerKinds)
    if (!WORKER_KINDS.includes(kind as WorkerKind))
      problems.push(
        `${at}.worker_kinds: "${kind.slice(0, 60)}" is not a kind (${WORKER_KINDS.join(", ")})`,
      );
  const duration = (key: string) =>
    value[key] === undefined ? 0 : (readDuration(value[key], `${at}.${key}`, problems) ?? 0);
  const inStateForMs = duration("in_state_for");
  const noProgressForMs = duration("no_progress_for");
  const threadNotMovingForMs = duration("thread_not_moving_for");
  const hasDuration = ["in_state_for", "no_progress_for", "thread_not_moving_for"].some(
    (k) => value[k] !== undefined,
  );
  if (!hasDuration && !allowMatchAll)
    problems.push(
      `${at}: no duration (in_state_for, no_progress_for or thread_not_moving_for): it would act on every session as soon as it starts; set one, or allow_match_all: true`,
    );
  let selectorText = "";
  let selector: PolicySpec["match"]["selector"] = [];
  let unreadable = false;
  if (value.selector !== undefined) {
    unreadable = true;
    if (typeof value.selector !== "string")
      problems.push(`${at}.selector: expected text such as "worker_id=etl-*"`);
    else {
      const parsed = parseSelector(value.selector);
      if (typeof parsed === "string") problems.push(`${at}.selector: ${parsed}`);
      else {
        unreadable = false;
        selector = parsed;
        selectorText = parsed.map((t) => `${t.key}=${t.glob}`).join(", ");
      }
    }
  }
  // A selector that did not parse was reported above; an empty one selects everything.
  if (!unreadable && selectsEverything(selector) && !allowMatchAll)
    problems.push(
      value.selector === undefined
        ? `${at}.selector: missing: the policy would match every worker; name the workers (e.g. "worker_id=etl-*"), or allow_match_all: true`
        : `${at}.selector: ${shown(value.selector)} matches every worker; name the workers (e.g. "worker_id=etl-*"), or allow_match_all: true`,
    );
  return {
    sessionStates,
    inStateForMs,
    noProgressForMs,
    threadNotMovingForMs,
    workerKinds: workerKinds as WorkerKind[],
    selectorText,
    selector,
  };
}
