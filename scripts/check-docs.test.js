// The docs check on made-up repositories: real git, real remark.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const repo = new URL("..", import.meta.url).pathname;
const trees = [];

function tree(files) {
  const dir = mkdtempSync(join(tmpdir(), "check-docs-"));
  trees.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  spawnSync("git", ["init", "-q"], { cwd: dir, timeout: 30_000 });
  return dir;
}

function check(dir) {
  const run = spawnSync(process.execPath, [join(repo, "scripts/check-docs.js")], {
    env: { ...process.env, STALLWATCH_CHECK_ROOT: dir },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status, out: run.stdout + run.stderr };
}

const code = {
  "server/gateway/fleet/fleet.ts": "export {};\n",
  "server/gateway/heartbeats/probe-shard.ts": "export {};\n",
  "web/features/worker/index.ts": "export {};\n",
};

afterEach(() => {
  for (const dir of trees.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("scripts/check-docs.js", { timeout: 60_000 }, () => {
  it("passes docs whose links, headings and named paths exist", () => {
    const result = check(
      tree({
        ...code,
        "README.md":
          "# Top\n\nSee [how](docs/how.md#the-part), `server/gateway/fleet/fleet.ts`,\n" +
          "`fleet/fleet.ts`, `web/features/<view>/index.ts`, `probe-shard.js:12`, `npm run check`.\n",
        "docs/how.md": "# How\n\n## The part\n",
        "server/gateway/heartbeats/README.md": "`probe-shard.ts` ticks.\n",
      }),
    );
    expect(result.out).toContain("every link and named path exists");
    expect(result.status).toBe(0);
  });

  it("fails on a relative link to a missing file, or to a missing heading of its own file", () => {
    const result = check(
      tree({
        ...code,
        "README.md": "# Top\n\n[gone](docs/gone.md) and [part](#no-such-part)\n",
        "docs/how.md": "# How\n",
      }),
    );
    expect(result.out).toContain("README.md:3");
    expect(result.out).toMatch(/gone\.md/);
    expect(result.out).toMatch(/no-such-part/);
    expect(result.status).toBe(1);
  });

  it("fails on a code path that names nothing, anchored, relative or a folder's own file", () => {
    const result = check(
      tree({
        ...code,
        "README.md": "`server/gateway/fleet/liveness.ts` and `heartbeats/liveness.ts`\n",
        // The file exists, but in another folder: a folder's README names its own files.
        "server/gateway/heartbeats/README.md": "`fleet.ts` and `ARCHITECTURE-NOTES.md`\n",
      }),
    );
    expect(result.out).toContain("README.md:1: `server/gateway/fleet/liveness.ts`");
    expect(result.out).toContain("`heartbeats/liveness.ts`");
    expect(result.out).toContain("server/gateway/heartbeats/README.md:1: `fleet.ts`");
    expect(result.out).toContain("`ARCHITECTURE-NOTES.md`");
    expect(result.status).toBe(1);
  });

  it("fails on a figure without its bench: a bench cell naming no bench, or a benchmarks table without the column", () => {
    const table = (bench) =>
      `| what | figure | bench |\n| --- | --- | --- |\n| p99 | 2 ms | \`${bench}\` |\n`;
    const good = check(
      tree({
        ...code,
        "bench/probe-cpu.bench.ts": "export {};\n",
        "README.md":
          `# Top\n\n## Benchmarks\n\n${table("probe-cpu")}\n` +
          "### First load (`bench/probe-cpu.bench.ts`)\n\n| what | figure |\n| --- | --- |\n| load | 1 s |\n",
      }),
    );
    expect(good.out).toContain("every link and named path exists");
    expect(good.status).toBe(0);
    const bad = check(
      tree({
        ...code,
        "bench/probe-cpu.bench.ts": "export {};\n",
        "README.md":
          `# Top\n\n## Benchmarks\n\n${table("probe-gpu")}\n` +
          "| what | figure |\n| --- | --- |\n| load | 1 s |\n",
      }),
    );
    expect(bad.out).toContain('README.md:7: bench "probe-gpu" is not a bench/<name>.bench.ts');
    expect(bad.out).toContain("README.md:9: a figures table without a `bench` column");
    expect(bad.status).toBe(1);
  });
});
