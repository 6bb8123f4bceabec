import { readFileSync } from "node:fs";
import { MIN_TOKEN_LENGTH } from "../../shared/cli/secret-flags.js";
import { unsafePatternReason } from "../redaction/redact.js";
import { textSettings, type SettingReader } from "./setting-reader.js";

/**
 * Settings of the worker-facing edge (agent identity and caps, redaction of
 * what workers send), spread into the gateway's settings table.
 */
export const WORKER_EDGE_SETTINGS = {
  ...textSettings("agent-token", "agent-token-file"),
  "trust-announced-address": {
    env: "STALLWATCH_TRUST_ANNOUNCED_ADDRESS",
    kind: "bool",
    fallback: "false",
  },
  "max-agents": { env: "STALLWATCH_MAX_AGENTS", kind: "count", fallback: "10000", min: 1 },
  // What admitting agents may cost (issue 19 item 6): a flood of 500
  // connections from one host held 600 MB and the loop for 2 s.
  "max-worker-connections-per-address": {
    env: "STALLWATCH_MAX_WORKER_CONNECTIONS_PER_ADDRESS",
    kind: "count",
    fallback: "64",
    min: 1,
  },
  "agent-pending-memory-mib": {
    env: "STALLWATCH_AGENT_PENDING_MEMORY_MIB",
    kind: "count",
    fallback: "64",
    min: 1,
  },
  "agent-admissions-per-turn": {
    env: "STALLWATCH_AGENT_ADMISSIONS_PER_TURN",
    kind: "count",
    fallback: "32",
    min: 1,
  },
  redact: { env: "STALLWATCH_REDACT", kind: "regexes" },
} as const;

type WorkerEdgeSettingName = keyof typeof WORKER_EDGE_SETTINGS;

export interface WorkerEdgeSettings {
  /** Fleet agent token (flag, env, or --agent-token-file); undefined = loopback agents only. */
  agentToken: string | undefined;
  trustAnnouncedAddress: boolean;
  maxAgents: number;
  /** Connections one address may hold on --grpc; more are closed on accept. */
  maxWorkerConnectionsPerAddress: number;
  /** MiB that agent streams not joined yet may hold together; over it they are refused. */
  agentPendingMemoryMib: number;
  /** Agent streams admitted per event-loop turn; the rest wait for the next turn. */
  agentAdmissionsPerTurn: number;
  /** `--redact` patterns, on top of the built-in ones; each checked for linear time. */
  redact: string[];
}

/** Reads the worker-facing edge's settings; every problem goes to `problems`. */
export function loadWorkerEdgeSettings(
  read: Pick<SettingReader<WorkerEdgeSettingName>, "raw" | "number" | "text">,
  problems: string[],
): WorkerEdgeSettings {
  const redact = read.raw("redact");
  for (const pattern of redact.values) {
    try {
      new RegExp(pattern, "gi");
      const unsafe = unsafePatternReason(pattern);
      // Worker text is untrusted: a pattern that can backtrack for ever is refused.
      if (unsafe) problems.push(`${redact.from}: "${pattern}": ${unsafe}`);
    } catch (err) {
      problems.push(`${redact.from}: ${(err as Error).message}`);
    }
  }
  const agentToken = readAgentToken(
    read.text("agent-token"),
    read.text("agent-token-file"),
    problems,
  );
  const trust = read.raw("trust-announced-address");
  const trustValue = trust.values[0] ?? "false";
  if (!/^(true|false|1|0)$/.test(trustValue))
    problems.push(`${trust.from}: expected true or false, got "${trustValue}"`);
  return {
    agentToken,
    trustAnnouncedAddress: trustValue === "true" || trustValue === "1",
    maxAgents: read.number("max-agents"),
    maxWorkerConnectionsPerAddress: read.number("max-worker-connections-per-address"),
    agentPendingMemoryMib: read.number("agent-pending-memory-mib"),
    agentAdmissionsPerTurn: read.number("agent-admissions-per-turn"),
    redact: redact.values,
  };
}

/**
 * The agent token from the flag/env or from a file (trimmed); at least
 * MIN_TOKEN_LENGTH characters. Unlike the people's tokens (resolveToken) it
 * adds no `ps` warning here: gateway start-up logs its own.
 */
function readAgentToken(
  direct: string | undefined,
  file: string | undefined,
  problems: string[],
): string | undefined {
  if (direct !== undefined && file !== undefined) {
    problems.push("agent token: give --agent-token or --agent-token-file, not both");
    return undefined;
  }
  let token = direct;
  if (file !== undefined) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      problems.push(`--agent-token-file: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH)
    problems.push(`agent token: use at least ${MIN_TOKEN_LENGTH} characters`);
  return token;
}
