// npm run check, "docs name only what exists": every Markdown file the
// repository tracks is parsed once (remark), then
// - its relative links and their #headings must resolve (remark-validate-links);
// - every code span that names a repository path must name one that exists:
//   `server/gateway/fleet/fleet.ts`, `web/features/<view>/index.ts` (a
//   `<placeholder>` or `*` stands for one path segment), or a shorter path
//   such as `fleet/fleet.ts` that must end some tracked path, or a bare file
//   name such as `liveness.ts`, which a folder's README must find in its own
//   folder or below (root-level docs: anywhere). `x.js` also finds `x.ts`,
//   the name TypeScript's ESM imports use.
// - a figure must name the bench that prints it: in a table with a `bench`
//   column, each row's cell must name a `bench/<name>.bench.ts` that exists;
//   and under a "Benchmarks" heading every table must have that column, or sit
//   under a heading that names its bench file.
// Exits non-zero listing each stale reference as file:line.
//
// STALLWATCH_CHECK_ROOT runs it on another tree (scripts/check-docs.test.js).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { remark } from "remark";
import remarkGfm from "remark-gfm";
import remarkValidateLinks from "remark-validate-links";
import { read } from "to-vfile";
import { visit } from "unist-util-visit";
import { root as repoRoot, say } from "./lib.js";

const root = (process.env.STALLWATCH_CHECK_ROOT ?? repoRoot).replace(/\/?$/, "/");

/** Tracked files (and new ones not yet ignored), relative to the root. */
function trackedFiles() {
  const listed = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout.split("\n").filter((f) => f && !f.startsWith("node_modules/"));
}

const TOP_LEVEL = /^(server|web|proto|e2e|bench|scripts|docs|gen|python|deploy|bin|\.ci)\//;
const FILE_LIKE = /\.(ts|tsx|js|cjs|mjs|md|py|proto|json|ya?ml|sh|bin|txt|css|html)$/;

/** The path a code span names, or undefined when it is not a path (a command, a URL, a type). */
export function pathIn(span) {
  const value = span.trim().replace(/:\d+(-\d+)?$/, "");
  if (/[\s=`'"(){}|,;]/.test(value) || value.includes("://") || value.startsWith("-")) return;
  if (value.startsWith("/") || value.startsWith("../")) return;
  if (!value.includes("/"))
    return FILE_LIKE.test(value) && /^[\w.@-]+$/.test(value) ? value : undefined;
  if (!TOP_LEVEL.test(value) && !FILE_LIKE.test(value)) return;
  return value;
}

/** A regex over tracked paths (and their directories) for a named path. */
function matcher(path, anchored) {
  const body = path
    .replace(/\/$/, "")
    .split("/")
    .map((segment) =>
      segment
        .split(/(<[^>]+>|\*)/)
        .map((part) =>
          part === "*" || /^<.+>$/.test(part)
            ? "[^/]+"
            : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"),
        )
        .join(""),
    )
    .join("/");
  const typescript = body.replace(/\\\.js$/, "\\.(js|ts|tsx)");
  return new RegExp(`${anchored ? "^" : "(^|/)"}${typescript}(/|$)`);
}

const files = trackedFiles();
const markdown = files.filter((f) => f.endsWith(".md") && !/(^|\/)fixtures\//.test(f));
const problems = [];
/** The text of a node and its children (a table cell, a heading). */
function textOf(node) {
  if (node.value !== undefined) return node.value;
  return (node.children ?? []).map(textOf).join("");
}

const benches = new Set(
  files.flatMap((f) => {
    const m = /^bench\/(.+)\.bench\.ts$/.exec(f);
    return m ? [m[1]] : [];
  }),
);

/** Figures name their bench: see the header comment. */
function checkFigureTables(file, tree) {
  let inBenchmarks = false;
  let headingNamesBench = false;
  for (const node of tree.children) {
    if (node.type === "heading") {
      const text = textOf(node);
      if (node.depth <= 2) inBenchmarks = /benchmarks/i.test(text);
      headingNamesBench = /bench\/[\w-]+\.bench\.ts/.test(text);
      continue;
    }
    if (node.type !== "table") continue;
    const [head, ...rows] = node.children;
    const column = head.children.findIndex((cell) => textOf(cell).trim().toLowerCase() === "bench");
    const line = node.position?.start.line ?? 0;
    if (column < 0) {
      if (inBenchmarks && !headingNamesBench)
        problems.push(`${file}:${line}: a figures table without a \`bench\` column`);
      continue;
    }
    for (const row of rows) {
      const name = textOf(row.children[column] ?? { value: "" }).trim();
      if (!benches.has(name))
        problems.push(
          `${file}:${row.position?.start.line ?? line}: bench "${name}" is not a bench/<name>.bench.ts`,
        );
    }
  }
}

// GitHub's Markdown: tables are an extension of CommonMark.
const processor = remark().use(remarkGfm).use(remarkValidateLinks, { repository: false });

for (const file of markdown) {
  const vfile = await read(join(root, file));
  const tree = processor.parse(vfile);
  await processor.run(tree, vfile);
  checkFigureTables(file, tree);
  for (const message of vfile.messages)
    problems.push(`${file}:${message.line ?? 0}: ${message.reason}`);
  visit(tree, "inlineCode", (node) => {
    const path = pathIn(node.value);
    if (!path) return;
    const anchored = TOP_LEVEL.test(path);
    const re = matcher(path, anchored);
    // A bare name in a folder's README is that folder's; elsewhere, anyone's.
    const folder = dirname(file);
    const within = path.includes("/") || folder === "." || folder === "docs" ? "" : `${folder}/`;
    if (files.some((f) => f.startsWith(within) && re.test(f.slice(within.length)))) return;
    // Paths relative to the Markdown file (`../shared/...` is skipped above).
    if (existsSync(join(root, dirname(file), path))) return;
    problems.push(
      `${file}:${node.position?.start.line ?? 0}: \`${node.value}\` names no ${anchored ? "path in the repository" : "tracked path ending so"}`,
    );
  });
}

for (const line of problems) say(line);
say(
  problems.length
    ? `docs: ${problems.length} stale reference${problems.length === 1 ? "" : "s"} above`
    : `docs: ${markdown.length} Markdown files, every link and named path exists`,
);
process.exit(problems.length ? 1 : 0);
