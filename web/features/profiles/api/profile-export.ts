import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb.js";

const frameName = (result: ProfileResult, index: number) => {
  const f = result.frames[index];
  if (!f) return "?";
  return f.file ? `${f.function} (${f.file}:${f.line})` : f.function;
};

/**
 * Brendan Gregg's collapsed format (flamegraph.pl, speedscope, inferno):
 * one line per stack, "thread;root;...;leaf count". Semicolons inside a
 * name would split it, so they become ":" there.
 */
export function collapsedStacks(result: ProfileResult, threadId = ""): string {
  const clean = (s: string) => s.replace(/[;\n]/g, ":");
  const lines: string[] = [];
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    for (const stack of thread.stacks) {
      const names = [
        thread.name || thread.threadId,
        ...stack.frames.map((i) => frameName(result, i)),
      ];
      lines.push(`${names.map(clean).join(";")} ${stack.count}`);
    }
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}

/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile per thread over a shared frame table, weights in
 * samples × interval (microseconds).
 */
export function speedscopeJson(result: ProfileResult, name: string): string {
  const frames = result.frames.map((f) => ({
    name: f.function,
    ...(f.file ? { file: f.file, line: f.line } : {}),
  }));
  const profiles = result.threads.map((thread) => {
    const samples = thread.stacks.map((s) => s.frames);
    const weights = thread.stacks.map((s) => Number(s.count) * result.intervalUs);
    const total = weights.reduce((a, b) => a + b, 0);
    return {
      type: "sampled",
      name: thread.name || thread.threadId,
      unit: "microseconds",
      startValue: 0,
      endValue: total,
      samples,
      weights,
    };
  });
  return JSON.stringify({
    $schema: "https://www.speedscope.app/file-format-schema.json",
    name,
    exporter: "stallwatch",
    activeProfileIndex: 0,
    shared: { frames },
    profiles,
  });
}
