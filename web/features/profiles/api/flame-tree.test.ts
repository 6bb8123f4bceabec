import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ProfileResultSchema, type ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";
import { countPauses, wideProfile } from "../testing/wide-profile";
import { flameTree, flameTreeSteps, frameLabel, type FlameNode } from "./flame-tree";
import { runSliced } from "./sliced";

const result = create(ProfileResultSchema, {
  intervalUs: 1000,
  frames: [
    { function: "main", file: "app.js", line: 1 },
    { function: "spin", file: "app.js", line: 9 },
    { function: "(idle)", file: "", line: 0 },
  ],
  threads: [
    {
      threadId: "udf-1",
      name: "udf-1",
      stacks: [
        { frames: [0, 1], count: 8n },
        { frames: [0], count: 2n },
      ],
    },
    { threadId: "udf-2", name: "udf-2", stacks: [{ frames: [2], count: 5n }] },
  ],
});

/** "name value" lines, depth-indented, for a readable comparison. */
function outline(node: FlameNode, depth = 0): string[] {
  return [
    `${"  ".repeat(depth)}${node.name} ${node.value}`,
    ...node.children.flatMap((c) => outline(c, depth + 1)),
  ];
}

describe("flameTree", () => {
  it("puts each thread under its own node when all threads are shown, values including callees", () => {
    expect(outline(flameTree(result))).toEqual([
      "all 15",
      "  udf-1 10",
      "    main (app.js:1) 10",
      "      spin (app.js:9) 8",
      "  udf-2 5",
      "    (idle) 5",
    ]);
  });

  it("shows one thread's stacks straight under the root", () => {
    expect(outline(flameTree(result, "udf-1"))).toEqual([
      "all 10",
      "  main (app.js:1) 10",
      "    spin (app.js:9) 8",
    ]);
  });
});

/** The call tree the plain way (a Map of children by label per node): what the folds must agree with. */
function plainTree(result: ProfileResult, threadId = ""): FlameNode {
  interface Node extends FlameNode {
    byLabel: Map<string, Node>;
  }
  const node = (name: string): Node => ({ name, value: 0, children: [], byLabel: new Map() });
  const child = (parent: Node, name: string) => {
    let c = parent.byLabel.get(name);
    if (!c) {
      c = node(name);
      parent.byLabel.set(name, c);
      parent.children.push(c);
    }
    return c;
  };
  const root = node("all");
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    const top = threadId === "" ? child(root, thread.name || thread.threadId) : root;
    for (const stack of thread.stacks) {
      const n = Number(stack.count);
      root.value += n;
      if (top !== root) top.value += n;
      let at = top;
      for (const f of stack.frames) {
        at = child(at, frameLabel(result, f));
        at.value += n;
      }
    }
  }
  return root;
}

describe("flameTreeSteps", () => {
  const wide = wideProfile();

  it("merges a wide profile's stacks in many short steps into the same tree as the plain way", () => {
    const { value, pauses } = countPauses(flameTreeSteps(wide));
    // A pause after every 128th of 2,000 stacks.
    expect(pauses).toBe(15);
    expect(outline(value)).toEqual(outline(plainTree(wide)));
  });

  it("gives one thread's tree when run in slices, one task per step", async () => {
    const tree = await runSliced(flameTreeSteps(wide, "t-2"), { budgetMs: 0 });
    expect(outline(tree)).toEqual(outline(plainTree(wide, "t-2")));
    expect(outline(tree).length).toBeGreaterThan(100);
  });
});
