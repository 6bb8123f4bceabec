import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ThreadDumpViewSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { fixtureDump } from "../../../shared/testing/fixtures";
import { dumpAsText, groupThreads } from "./group-threads";

describe("groupThreads", () => {
  it("groups identical stacks with counts, stuck groups first", () => {
    const grouped = groupThreads(fixtureDump(50, 2), undefined, "");
    expect(grouped.total).toBe(50);
    expect(grouped.groups.map((g) => [g.frames[0], g.threads.length, g.notMoving])).toEqual([
      ["recv_into (ssl.py:1821)", 2, 2],
      ["wait (threading.py:320)", 48, 0],
    ]);
  });

  it("searches thread names and frames", () => {
    expect(groupThreads(fixtureDump(50), undefined, "RECV_INTO").total).toBe(2);
    expect(groupThreads(fixtureDump(50), undefined, "pool-7").total).toBe(1);
  });

  it("diffs against the previous dump: changed stacks and gone threads", () => {
    const previous = fixtureDump(3, 0, 90_000);
    const current = create(ThreadDumpViewSchema, {
      ...fixtureDump(2, 1, 100_000),
    });
    const grouped = groupThreads(current, previous, "");
    expect(grouped.gone).toEqual(["t-2"]);
    expect(grouped.groups.find((g) => g.notMoving > 0)?.changed).toBe(1);
  });

  it("stays fast and linear for 2,000 threads", () => {
    const grouped = groupThreads(fixtureDump(2000, 5), fixtureDump(2000, 5), "");
    expect(grouped.total).toBe(2000);
    expect(grouped.groups).toHaveLength(2);
  });

  it("renders a plain-text dump for copy and download", () => {
    const text = dumpAsText(fixtureDump(2, 1));
    expect(text).toContain('"udf-hang-0" id=t-0 state=running session=s-0 [not moving since');
    expect(text).toContain("    at recv_into (ssl.py:1821)");
  });
});
