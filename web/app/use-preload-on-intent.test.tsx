// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { usePreloadOnIntent } from "./use-preload-on-intent";

afterEach(cleanup);

const WORKER = /^\/workers\/[^/]+$/;

function Links({ load }: { load: () => Promise<unknown> }) {
  usePreloadOnIntent(WORKER, load);
  return (
    <nav>
      <a href="/workers/w-1">
        <code>w-1</code>
      </a>
      <a href="/stalled">Stalled</a>
    </nav>
  );
}

describe("usePreloadOnIntent (issue 19.4)", () => {
  it("loads when a matching link is hovered (even through its child) or focused, not for others", () => {
    const load = vi.fn(() => Promise.resolve());
    render(<Links load={load} />);
    fireEvent.pointerOver(screen.getByText("Stalled"));
    fireEvent.focusIn(screen.getByText("Stalled"));
    expect(load).not.toHaveBeenCalled();
    fireEvent.pointerOver(screen.getByText("w-1"));
    expect(load).toHaveBeenCalledTimes(1);
    fireEvent.focusIn(screen.getByRole("link", { name: "w-1" }));
    expect(load).toHaveBeenCalledTimes(2);
  });
});
