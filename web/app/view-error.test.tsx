// @vitest-environment jsdom
import { createRouterTransport } from "@connectrpc/connect";
import { cleanup, render, screen } from "@testing-library/react";
import { createMemoryRouter, Outlet, RouterProvider } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./app";
import { isChunkLoadError, ViewError } from "./view-error";

// The audit view's chunk is gone, as after a gateway upgrade under an open page: the
// route's lazy() rejects with the browser's error. (A throwing vi.mock factory would
// reject with vitest's own wording, so the view's export throws instead.)
vi.mock("../features/audit/index", () => ({
  get AuditPage(): never {
    throw new TypeError(
      "Failed to fetch dynamically imported module: http://127.0.0.1:8080/assets/index-Dx1.js",
    );
  },
}));

afterEach(cleanup);

function frameWith(path: string, children: Parameters<typeof createMemoryRouter>[0]) {
  const router = createMemoryRouter(
    [
      {
        element: (
          <div>
            <nav aria-label="Sections">frame</nav>
            <Outlet />
          </div>
        ),
        children: [{ errorElement: <ViewError />, children }],
      },
    ],
    { initialEntries: [path] },
  );
  render(<RouterProvider router={router} />);
}

describe("a view that fails", () => {
  it("says so inside the frame when it throws while rendering, with the message and the way on", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined); // React reports the throw
    const Broken = () => {
      throw new Error("worker detail without a worker");
    };
    frameWith("/boom", [{ path: "/boom", Component: Broken }]);
    expect(await screen.findByRole("heading", { name: "This view failed" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("worker detail without a worker");
    expect(screen.getByRole("button", { name: "Reload this page" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Go to the fleet" })).toBeTruthy();
    expect(screen.getByRole("navigation", { name: "Sections" })).toBeTruthy();
  });

  it("in the real routes: a view whose code is gone says to reload, and the header stays", async () => {
    render(<App transport={createRouterTransport(() => undefined)} initialPath="/audit" />);
    expect(
      await screen.findByRole("heading", { name: "This view could not be loaded" }),
    ).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toMatch(/updated since this page was opened/);
    expect(screen.getByRole("navigation", { name: "Sections" })).toBeTruthy();
  });

  it("tells a missing chunk from other errors, in the words of each browser", () => {
    for (const message of [
      "Failed to fetch dynamically imported module: http://h/assets/a.js", // Chromium
      "error loading dynamically imported module: http://h/assets/a.js", // Firefox
      "Importing a module script failed.", // Safari
    ])
      expect(isChunkLoadError(new TypeError(message))).toBe(true);
    expect(isChunkLoadError(new Error("fleet stream closed"))).toBe(false);
    expect(isChunkLoadError("Failed to fetch dynamically imported module")).toBe(false);
  });
});
