import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAgentToken } from "./agent-token.js";

describe("readAgentToken", () => {
  it("takes the flag, then the file, then the environment", () => {
    const file = join(mkdtempSync(join(tmpdir(), "swtok-")), "token");
    writeFileSync(file, "from-file-0123456789\n");
    expect(readAgentToken({ "agent-token": "flag" }, { STALLWATCH_AGENT_TOKEN: "env" })).toBe(
      "flag",
    );
    expect(readAgentToken({ "agent-token-file": file }, { STALLWATCH_AGENT_TOKEN: "env" })).toBe(
      "from-file-0123456789",
    );
    expect(readAgentToken({}, { STALLWATCH_AGENT_TOKEN: "env" })).toBe("env");
    expect(readAgentToken({}, {})).toBeUndefined();
  });

  it("refuses both flags at once and a missing file", () => {
    expect(() => readAgentToken({ "agent-token": "a", "agent-token-file": "b" }, {})).toThrow(
      /not both/,
    );
    expect(() => readAgentToken({ "agent-token-file": "/nonexistent/x" }, {})).toThrow(
      /agent-token-file/,
    );
  });
});
