// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { SessionState } from "../../../../gen/stallwatch/v1/agent_pb";
import { SessionViewSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { SessionsTable } from "./sessions-table";

afterEach(cleanup);

const view = (sessionId: string, threadId: string, threadName = "") =>
  create(SessionViewSchema, {
    workerId: "demo-py",
    session: { sessionId, state: SessionState.PROCESSING, udfName: "hang", threadId },
    threadName,
  });

describe("SessionsTable's thread links", () => {
  it("name a thread as the gateway found it in the latest dump, its id in the title, else by id", () => {
    render(
      <MemoryRouter>
        <SessionsTable
          sessions={[view("py-1", "140581904828096", "grpc-udf_3"), view("ts-1", "udf-2")]}
          nowMs={0}
          dumpLink={(v) => `/workers/demo-py?tab=threads&session=${v.session?.sessionId}`}
        />
      </MemoryRouter>,
    );
    const named = screen.getByRole("link", { name: "thread grpc-udf_3" });
    expect(named.getAttribute("title")).toBe("thread id 140581904828096");
    expect(screen.getByRole("link", { name: "thread udf-2" })).toBeTruthy();
  });
});
