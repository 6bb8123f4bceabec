import type { BeamParseLimits, BeamThread } from "./beam-types.js";
import { GO_IDLE_PACKAGES, GO_WAITING_STATES, STATUS_HANDLER_MARKS } from "./idle-frames.js";

/**
 * The Go SDK's status: the raw output of `runtime.Stack(buf, true)` (NUL
 * padding already dropped by toLines). Goroutines are separated by blank
 * lines:
 *
 *   goroutine 57 [IO wait, 7 minutes]:
 *   net.(*conn).Read(0xc000128040, {…})
 *   	/usr/local/go/src/net/net.go:194 +0x45
 *   created by example.com/x.run in goroutine 12
 *   	/src/x.go:40 +0x9c
 *
 * innermost call first. The bracketed state and its minutes are all the
 * "not moving" evidence Go gives. The buffer is cut at 64 KiB, so the last
 * goroutine may end mid-frame: what is there is kept.
 */
export function parseGoStatus(
  lines: readonly string[],
  limits: BeamParseLimits,
  cut: { threads: number; frames: number },
  out: BeamThread[],
): number[] {
  const unknown: number[] = [];
  let g: { id: string; state: string; frames: string[]; pendingFn?: string } | undefined;

  const flush = () => {
    if (!g) return;
    if (g.pendingFn !== undefined) g.frames.push(g.pendingFn);
    if (out.length >= limits.maxThreads) cut.threads += 1;
    else out.push(classify(g.id, g.state, g.frames));
    g = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const line = raw.trim();
    if (line === "") {
      flush();
      continue;
    }
    if (line.startsWith("goroutine ") && line.endsWith("]:")) {
      flush();
      const open = line.indexOf(" [");
      if (open < 0) {
        unknown.push(i);
        continue;
      }
      g = {
        id: line.slice("goroutine ".length, open),
        state: line.slice(open + 2, -2),
        frames: [],
      };
      continue;
    }
    if (!g) {
      unknown.push(i);
      continue;
    }
    if (raw.startsWith("\t") && g.pendingFn !== undefined) {
      // `\t/path/file.go:123 +0x45`: keep file:line, drop the PC offset.
      const plus = line.lastIndexOf(" +0x");
      const where = plus < 0 ? line : line.slice(0, plus);
      addFrame(g, `${g.pendingFn} (${where})`, limits, cut);
      g.pendingFn = undefined;
    } else {
      if (g.pendingFn !== undefined) addFrame(g, g.pendingFn, limits, cut);
      g.pendingFn = line;
    }
  }
  flush();
  return unknown;
}

function addFrame(
  g: { frames: string[] },
  frame: string,
  limits: BeamParseLimits,
  cut: { frames: number },
): void {
  if (g.frames.length < limits.maxFramesPerThread) g.frames.push(frame);
  else if (g.frames.length === limits.maxFramesPerThread) {
    g.frames.push("… more frames cut");
    cut.frames += 1;
  }
}

/** A goroutine with its idleness and Go's own "blocked N minutes". */
function classify(id: string, state: string, frames: string[]): BeamThread {
  const parts = state.split(", ");
  const base = parts[0] ?? "";
  let blockedForMs: number | undefined;
  for (const p of parts) {
    if (p.endsWith(" minutes") || p.endsWith(" minute")) {
      const n = Number(p.slice(0, p.indexOf(" ")));
      if (Number.isFinite(n) && n >= 0) blockedForMs = n * 60_000;
    }
  }
  const waiting = GO_WAITING_STATES.some((s) => base === s || base.startsWith(`${s} (`));
  const owner = frames.find((f) => !f.startsWith("created by ") && !isStdlib(f));
  const statusHandler = frames.some((f) => f.includes(STATUS_HANDLER_MARKS.go));
  // Waiting with no code of its own on the stack (runtime, net/http…), or
  // waiting inside a framework that waits for work: idle. Waiting inside
  // user code (a socket read in a DoFn) is exactly what a stuck bundle is.
  const idle =
    waiting && (owner === undefined || GO_IDLE_PACKAGES.some((p) => owner.startsWith(p)));
  return {
    threadId: `goroutine ${id}`,
    name: `goroutine ${id}`,
    state,
    frames,
    idle,
    statusHandler,
    ...(blockedForMs !== undefined ? { blockedForMs } : {}),
  };
}

/** Go's standard library has no dot in its first path element (`net/http`, `runtime`). */
function isStdlib(frame: string): boolean {
  const slash = frame.indexOf("/");
  const paren = frame.indexOf("(");
  const firstEnd = slash >= 0 && (paren < 0 || slash < paren) ? slash : frame.indexOf(".");
  const first = firstEnd < 0 ? frame : frame.slice(0, firstEnd);
  if (slash >= 0 && (paren < 0 || slash < paren)) return !first.includes(".");
  return first !== "main";
}
