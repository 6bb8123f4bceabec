import { PolicyMode } from "../../../gen/stallwatch/v1/policy_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { PolicySpec } from "./policy-spec.js";

/** What a reload needs: where the file is, how to read it, and the engine to hand it to. */
export interface PolicyReloadDeps {
  /** The --policy-file path ("" when the gateway was started without one). */
  path: string;
  /** Reads and validates the file; throws with every problem (policy-settings.ts). */
  read: (path: string) => PolicySpec[];
  /** Its problems, one line each (PolicyFileError's, or the read error's). */
  problemsOf: (err: unknown) => string[];
  engine: { specs: readonly PolicySpec[]; replaceSpecs(specs: readonly PolicySpec[]): void };
  log: Logger;
}

/** Policies as the log names them: "name (mode)". */
export const describePolicies = (specs: readonly PolicySpec[]) =>
  specs.map((p) => `${p.name} (${PolicyMode[p.mode].toLowerCase()})`);

/**
 * Reads the policy file again (SIGHUP, as Prometheus and nginx reload): a
 * valid file replaces the policies from the engine's next tick on; a file
 * with any problem changes nothing, and the log line names every problem,
 * so an edit that breaks the file never leaves the gateway without its
 * policies, nor acting on half of them. Returns whether it replaced them.
 */
export function reloadPolicies(deps: PolicyReloadDeps): boolean {
  if (!deps.path) {
    deps.log.warn("SIGHUP: nothing to reload (the gateway was started without --policy-file)");
    return false;
  }
  let specs: PolicySpec[];
  try {
    specs = deps.read(deps.path);
  } catch (err) {
    deps.log.error(
      {
        file: deps.path,
        problems: deps.problemsOf(err),
        kept: describePolicies(deps.engine.specs),
      },
      "policy file not reloaded: the policies in force are kept",
    );
    return false;
  }
  const before = new Set(deps.engine.specs.map((s) => s.name));
  deps.engine.replaceSpecs(specs);
  deps.log.info(
    {
      file: deps.path,
      policies: describePolicies(specs),
      added: specs.filter((s) => !before.has(s.name)).map((s) => s.name),
      removed: [...before].filter((name) => !specs.some((s) => s.name === name)),
    },
    "policies reloaded",
  );
  return true;
}
