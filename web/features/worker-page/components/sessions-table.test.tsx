// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { SessionState } from "../../../../gen/stallwatch/v1/agent_pb";
import { SessionViewSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { SessionsTable } from "./sessions-table";

afterEach(cleanup);

const view = (sessionId: string, threadId: string) =>
  create(SessionViewSchema, {
    workerId: "demo-py",
    session: { sessionId, state: SessionState.PROCESSING, udfName: "hang", threadId },
  });

describe("SessionsTable's thread links", () => {
  it("name a thread as the latest dump does, its id in the title, and fall back to the id", () => {
    render(
      <MemoryRouter>
        <SessionsTable
          sessions={[view("py-1", "140581904828096"), view("ts-1", "udf-2")]}
          nowMs={0}
          dumpLink={(v) => `/workers/demo-py?tab=threads&session=${v.session?.sessionId}`}
          threadNames={new Map([["140581904828096", "grpc-udf_3"]])}
        />
      </MemoryRouter>,
    );
    const named = screen.getByRole("link", { name: "thread grpc-udf_3" });
    expect(named.getAttribute("title")).toBe("thread id 140581904828096");
    expect(screen.getByRole("link", { name: "thread udf-2" })).toBeTruthy();
  });
});
