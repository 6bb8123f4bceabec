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
  if (!path) return { policies: [], policySource: "" };
  const source = `${from} ${path}`;
  try {
    // Checked before reading: a huge or special file must not be read whole.
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error("not a regular file");
    if (stat.size > MAX_POLICY_FILE_BYTES)
      throw new Error(`larger than ${MAX_POLICY_FILE_BYTES} bytes`);
    return { policies: parsePolicyFile(readFileSync(path, "utf8"), path), policySource: source };
  } catch (err) {
    if (err instanceof PolicyFileError)
      problems.push(...err.problems.map((p) => `${from} ${path}: ${p}`));
    else problems.push(`${from} ${path}: ${(err as Error).message}`);
    return { policies: [], policySource: "" };
  }
}
