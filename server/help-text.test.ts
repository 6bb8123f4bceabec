import { describe, expect, it } from "vitest";
import { demoCommand } from "./demo/demo-command.js";
import { engineCommand } from "./engine/engine-command.js";
import { gatewayCommand } from "./gateway/gateway-command.js";
import { workerCommand } from "./worker/worker-command.js";
import { backupCommand } from "./gateway/backup/backup-command.js";
import type { Command } from "./shared/cli/command.js";

/** Flags every command takes from the CLI itself, described in the top-level help. */
const GLOBAL = new Set(["log-format", "log-file", "help"]);

/** The flags a help text lists, one per line: `  --name …` or `  -h, --help`. */
function listed(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, )?--([a-z][a-z0-9-]*)/gm)].map((m) => m[1] ?? "");
}

describe.each([gatewayCommand, workerCommand, engineCommand, demoCommand, backupCommand])(
  "stallwatch $name --help",
  (command: Command) => {
    it("lists every flag the command takes, once, and none it does not take", () => {
      const flags = listed(command.help);
      const taken = Object.keys(command.options).filter((f) => !GLOBAL.has(f));
      expect(flags.filter((f, i) => flags.indexOf(f) !== i)).toEqual([]);
      expect(taken.filter((f) => !flags.includes(f))).toEqual([]);
      expect(flags.filter((f) => !GLOBAL.has(f) && !(f in command.options))).toEqual([]);
    });
  },
);
