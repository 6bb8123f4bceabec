// The import check on made-up trees: the real script, the real
// dependency-cruiser and the repository's real rules (config files copied
// in), so a cycle the check cannot see would show here first.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const repo = new URL("..", import.meta.url).pathname;
const trees = [];

/** A tree of `files` (path → source) beside copies of the rule files. */
function tree(files) {
  const dir = mkdtempSync(join(tmpdir(), "check-imports-"));
  trees.push(dir);
  for (const config of [
    ".dependency-cruiser.cjs",
    "scripts/gateway-layers.cjs",
    "tsconfig.server.json",
    "tsconfig.base.json",
  ]) {
    mkdirSync(dirname(join(dir, config)), { recursive: true });
    copyFileSync(join(repo, config), join(dir, config));
  }
  mkdirSync(join(dir, "web"), { recursive: true });
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
}

function check(dir) {
  const run = spawnSync(process.execPath, [join(repo, "scripts/check-imports.js")], {
    env: { ...process.env, STALLWATCH_CHECK_ROOT: dir },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

const uses = (spec) => `import { x } from "${spec}";\nexport const y = x;\n`;
const leaf = "export const x = 1;\n";

afterEach(() => {
  for (const dir of trees.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Each case starts dependency-cruiser (seconds on a busy 2-core machine).
describe("scripts/check-imports.js", { timeout: 120_000 }, () => {
  it("passes a tree whose features import one way", () => {
    const result = check(
      tree({
        "server/worker/udf/run.ts": uses("../sessions/table.js"),
        "server/worker/sessions/table.ts": leaf,
      }),
    );
    expect(result.out).toContain("no folder or feature cycle");
    expect(result.status).toBe(0);
  });

  it("fails on a feature cycle that runs through a subfolder, which no directory cycle shows", () => {
    const result = check(
      tree({
        // sessions/inner → udf and udf → sessions: the directories
        // sessions/inner, udf and sessions form no cycle, the features do.
        "server/worker/sessions/inner/table.ts": uses("../../udf/leaf.js"),
        "server/worker/udf/leaf.ts": leaf,
        "server/worker/udf/run.ts": uses("../sessions/words.js"),
        "server/worker/sessions/words.ts": leaf,
      }),
    );
    expect(result.out).not.toContain("folder cycle");
    expect(result.out).toContain("feature cycle: server/worker/sessions ↔ server/worker/udf");
    expect(result.out).toContain(
      "server/worker/sessions/inner/table.ts imports server/worker/udf/leaf.ts",
    );
    expect(result.status).toBe(1);
  });

  it("fails on a folder that imports its parent", () => {
    const result = check(
      tree({
        "server/worker/sessions/inner/table.ts": uses("../words.js"),
        "server/worker/sessions/words.ts": uses("./inner/table.js"),
      }),
    );
    expect(result.out).toContain("server/worker/sessions");
    expect(result.status).toBe(1);
  });

  it("fails when a lower gateway layer imports a higher one", () => {
    const result = check(
      tree({
        "server/gateway/fleet/fleet.ts": uses("../status-intake/collector.js"),
        "server/gateway/status-intake/collector.ts": leaf,
      }),
    );
    expect(result.out).toContain('import rule "gateway-layer-fleet"');
    expect(result.status).toBe(1);
  });

  it("fails when a gateway layer imports the gateway's root files", () => {
    const result = check(
      tree({
        "server/gateway/store/store.ts": uses("../gateway.js"),
        "server/gateway/gateway.ts": leaf,
      }),
    );
    expect(result.out).toMatch(/import rule "gateway-layer-auth-beam-text-events-redaction-store"/);
    expect(result.status).toBe(1);
  });

  it("lets only the fleet's named writers import Fleet; readers take FleetReader", () => {
    const fleet = {
      "server/gateway/fleet/fleet.ts": leaf,
      "server/gateway/fleet/fleet-reader.ts": leaf,
      "server/gateway/stalls/stall-watch.ts": uses("../fleet/fleet.js"),
      "server/gateway/snapshots/build-snapshot.ts": uses("../fleet/fleet-reader.js"),
    };
    expect(check(tree(fleet)).status).toBe(0);
    const result = check(
      tree({ ...fleet, "server/gateway/metrics/gateway-metrics.ts": uses("../fleet/fleet.js") }),
    );
    expect(result.out).toContain('import rule "fleet-writers-are-named"');
    expect(result.out).toContain("server/gateway/metrics/gateway-metrics.ts");
    expect(result.status).toBe(1);
  });

  it("fails on a gateway folder that no layer names", () => {
    const result = check(tree({ "server/gateway/gadgets/gadget.ts": leaf }));
    expect(result.out).toContain("server/gateway/gadgets/ is in no layer");
    expect(result.status).toBe(1);
  });
});
