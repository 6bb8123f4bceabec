// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { FleetEventSchema } from "../../gen/stallwatch/v1/fleet_pb";
import { EventsList } from "./events-list";

afterEach(cleanup);

const stalled = create(FleetEventSchema, {
  id: "e1",
  atMs: 1_000n,
  workerId: "demo-beam-java",
  kind: "session_stalled",
  summary: "session 2fe06fe3-c6de (udf) stalled: processing for 15 s (threshold 15 s)",
});

describe("EventsList", () => {
  it("on the fleet-wide list, names each event's worker (a session event's summary does not)", () => {
    render(
      <MemoryRouter>
        <EventsList events={[stalled]} workerLink={(id) => `/workers/${id}`} />
      </MemoryRouter>,
    );
    const link = screen.getByRole("link", { name: "demo-beam-java" });
    expect(link.getAttribute("href")).toBe("/workers/demo-beam-java");
    expect(link.parentElement?.textContent).toContain("demo-beam-java: session 2fe06fe3-c6de");
  });

  it("does not repeat a worker id the summary already starts with", () => {
    const healthy = create(FleetEventSchema, {
      id: "e2",
      atMs: 1_000n,
      workerId: "demo-1",
      kind: "liveness",
      summary: "demo-1 healthy: first heartbeat answered",
    });
    render(
      <MemoryRouter>
        <EventsList events={[healthy]} workerLink={(id) => `/workers/${id}`} />
      </MemoryRouter>,
    );
    const item = screen.getByRole("listitem");
    expect(item.textContent).toContain("demo-1 healthy: first heartbeat answered");
    expect(item.textContent).not.toContain("demo-1: demo-1");
    expect(screen.getByRole("link", { name: "demo-1" })).toBeTruthy();
  });

  it("on a worker's own page, adds no link (the worker is the page)", () => {
    render(
      <MemoryRouter>
        <EventsList events={[stalled]} />
      </MemoryRouter>,
    );
    expect(screen.queryByRole("link")).toBeNull();
  });
});
