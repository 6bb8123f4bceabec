// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { ThreadDumpView as Dump } from "../../../../gen/stallwatch/v1/fleet_pb";
import { fixtureDump } from "../../../shared/testing/fixtures";
import { ThreadDumpView } from "./thread-dump-view";

afterEach(cleanup);

/** The view with its filter and raw switch live, over `dump` (2,000 threads, 3 stuck, by default). */
function Harness({ dump = fixtureDump(2000, 3) }: { dump?: Dump }) {
  const [filter, setFilter] = useState("");
  const [showRaw, setShowRaw] = useState(false);
  return (
    <ThreadDumpView
      current={dump}
      nowMs={100_000}
      filter={filter}
      onFilter={setFilter}
      showRaw={showRaw}
      onShowRaw={setShowRaw}
    />
  );
}

describe("ThreadDumpView", () => {
  it("shows 2,000 threads as two groups, the stuck one first with its not-moving badge", () => {
    render(<Harness />);
    expect(screen.getByText(/2000 threads in 2 groups/)).toBeTruthy();
    const heads = screen.getAllByRole("button", { expanded: false });
    expect(heads[0]?.textContent).toContain("udf-hang-0");
    expect(heads[0]?.textContent).toContain("and 2 more with this stack");
    expect(heads[0]?.textContent).toContain("not moving for 38 s");
  });

  it("shows a lone thread's id beside its name when they differ (Beam Python: session links use the ident)", () => {
    const dump = fixtureDump(2, 1);
    const [stuck] = dump.threads;
    if (!stuck?.thread) throw new Error("no thread");
    stuck.thread.threadId = "139600000008192";
    stuck.thread.name = "udf-2";
    render(<Harness dump={dump} />);
    const heads = screen.getAllByRole("button", { expanded: false });
    expect(heads[0]?.textContent).toContain("udf-2 id 139600000008192");
    // A thread running no session is not linked to: its id stays out of the way.
    expect(heads[1]?.textContent).not.toContain(" id t-1");
  });

  it("expands a group to its stack and searches", () => {
    render(<Harness />);
    const head = screen.getAllByRole("button", { expanded: false })[0];
    if (!head) throw new Error("no group");
    fireEvent.click(head);
    expect(screen.getByText(/at recv_into \(ssl\.py:1821\)/)).toBeTruthy();
    fireEvent.change(screen.getByRole("searchbox", { name: "Search threads" }), {
      target: { value: "pool-1999" },
    });
    expect(screen.getByText(/1 threads in 1 groups/)).toBeTruthy();
  });

  it("keeps Beam's raw text one click away, as text", () => {
    const dump = fixtureDump(2000, 3);
    dump.rawText = "========== THREAD DUMP ==========\n<script>alert(1)</script>";
    render(<Harness dump={dump} />);
    fireEvent.click(screen.getByRole("button", { name: "Raw text" }));
    expect(screen.getByText(/<script>alert\(1\)<\/script>/)).toBeTruthy();
    expect(document.querySelector("script")).toBeNull();
  });

  it("keeps the DOM small when every thread has its own stack (2,000 groups, virtualized)", () => {
    const dump = fixtureDump(2000, 3);
    dump.threads.forEach((t, i) => {
      if (t.thread) t.thread.frames = [`work (job.py:${i})`];
    });
    const { container } = render(<Harness dump={dump} />);
    expect(screen.getByText(/2000 threads in 2000 groups/)).toBeTruthy();
    const rendered = container.querySelectorAll(".thread-groups .group").length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(120);
    // The stuck ones still come first.
    expect(container.querySelector(".thread-groups .group")?.textContent).toContain("not moving");
  });
});
