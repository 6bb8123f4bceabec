import { readFileSync, statSync } from "node:fs";
import {
  MAX_POLICY_FILE_BYTES,
  parsePolicyFile,
  PolicyFileError,
} from "../policies/policy-file.js";
import type { PolicySpec } from "../policies/policy-spec.js";
import { textSettings, type SettingReader } from "./setting-reader.js";

/** `--policy-file FILE` (env STALLWATCH_POLICY_FILE, config key `policyFile`). */
export const POLICY_SETTINGS = textSettings("policy-file");

export interface PolicySettings {
  /** Validated remediation policies; none without --policy-file. */
  policies: PolicySpec[];
  /** Where they came from, shown by ListPolicies ("" for none). */
  policySource: string;
  /** The policy file's path, read again on SIGHUP ("" for none). */
  policyFile: string;
}

/**
 * Reads and validates a policy file: its specs, or a PolicyFileError whose
 * problems each name a field (or an Error for a file that cannot be read).
 */
export function readPolicyFile(path: string): PolicySpec[] {
  // Checked before reading: a huge or special file must not be read whole.
  const stat = statSync(path);
  if (!stat.isFile()) throw new Error("not a regular file");
  if (stat.size > MAX_POLICY_FILE_BYTES)
    throw new Error(`larger than ${MAX_POLICY_FILE_BYTES} bytes`);
  return parsePolicyFile(readFileSync(path, "utf8"), path);
}

/** A failed read's problems, one line each, prefixed with `where`. */
export function policyFileProblems(err: unknown, where: string): string[] {
  if (err instanceof PolicyFileError) return err.problems.map((p) => `${where}: ${p}`);
  return [`${where}: ${(err as Error).message}`];
}

/**
 * Reads and validates the policy file at start. Every problem, each naming
 * its field, goes to `problems`, so a malformed or dangerous policy keeps
 * the gateway from starting (exit 2) rather than acting on a guess.
 */
export function loadPolicySettings(
  read: Pick<SettingReader<keyof typeof POLICY_SETTINGS>, "raw">,
  problems: string[],
): PolicySettings {
  const { values, from } = read.raw("policy-file");
  const path = values[0];
  if (!path) return { policies: [], policySource: "", policyFile: "" };
  try {
    return { policies: readPolicyFile(path), policySource: `${from} ${path}`, policyFile: path };
  } catch (err) {
    problems.push(...policyFileProblems(err, `${from} ${path}`));
    return { policies: [], policySource: "", policyFile: "" };
  }
}
