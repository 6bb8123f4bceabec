import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ProfileResultSchema } from "../../../../gen/stallwatch/v1/agent_pb";
import { flameTree, type FlameNode } from "./flame-tree";

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
