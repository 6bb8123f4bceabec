import { readFileSync } from "node:fs";
import type { FlagValues } from "../shared/cli/command.js";
import { UsageError } from "../shared/cli/usage-error.js";

/**
 * The worker's agent token: `--agent-token`, `--agent-token-file`, or
 * STALLWATCH_AGENT_TOKEN, in that order; undefined when none is given.
 */
export function readAgentToken(flags: FlagValues, env: NodeJS.ProcessEnv): string | undefined {
  const direct = flags["agent-token"];
  const file = flags["agent-token-file"];
  if (typeof direct === "string" && typeof file === "string")
    throw new UsageError("give --agent-token or --agent-token-file, not both");
  if (typeof direct === "string") return direct;
  if (typeof file === "string") {
    try {
      const token = readFileSync(file, "utf8").trim();
      if (token === "") throw new Error("file is empty");
      return token;
    } catch (err) {
      throw new UsageError(`--agent-token-file: ${(err as Error).message}`);
    }
  }
  const fromEnv = env.STALLWATCH_AGENT_TOKEN;
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}
