// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ActionKind,
  ActionStatus,
  AuditRecordSchema,
  Role,
  type AuditRecord,
} from "../../../../gen/stallwatch/v1/control_pb";
import { actionAnswer, renderWithControl } from "../../../shared/testing/control-service";
import { AuditResult } from "./audit-result";

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const interrupted = create(AuditRecordSchema, {
  id: "a-1",
  actionId: "cancel-1",
  kind: ActionKind.CANCEL_SESSION,
  workerId: "w-1",
  result: ActionStatus.INTERRUPTED,
  reconciled: true,
  outcome: "interrupted: the gateway restarted and the worker could not be asked",
});

function renderRecord(record: AuditRecord, role: Role, retried: string[] = []) {
  renderWithControl(<AuditResult record={record} />, role, {
    retryAction: (req) => {
      retried.push(req.retryOf);
      return actionAnswer(req.actionId, {
        kind: ActionKind.CANCEL_SESSION,
        status: ActionStatus.RUNNING,
        retryOf: req.retryOf,
      });
    },
  });
}

describe("AuditResult", () => {
  it("says plainly that a gateway restart interrupted the action, and lets an operator retry it once", async () => {
    const retried: string[] = [];
    renderRecord(interrupted, Role.OPERATOR, retried);
    expect(screen.getByText("interrupted")).toBeTruthy();
    expect(screen.getByText("gateway restarted")).toBeTruthy();
    expect(screen.getByText(/the worker could not be asked/)).toBeTruthy();
    const retry = screen.getByRole<HTMLButtonElement>("button", { name: "Retry" });
    await waitFor(() => expect(retry.disabled).toBe(false));
    vi.spyOn(window, "confirm").mockReturnValue(true);
    fireEvent.click(retry);
    await screen.findByText(/started as ui-retry-/);
    expect(retried).toEqual(["cancel-1"]);
    expect(retry.disabled).toBe(true);
  });

  it("keeps Retry disabled for viewers, saying why", async () => {
    renderRecord(interrupted, Role.VIEWER);
    const retry = screen.getByRole<HTMLButtonElement>("button", { name: "Retry" });
    await waitFor(() => expect(retry.title).toBe("no operator token sent"));
    expect(retry.disabled).toBe(true);
  });

  it("marks an action settled after a restart, with its retry links, and offers no retry", () => {
    renderRecord(
      create(AuditRecordSchema, {
        ...interrupted,
        result: ActionStatus.SUCCEEDED,
        outcome: "cancelled: the worker reported the session cancelled",
        retryOf: "cancel-0",
      }),
      Role.OPERATOR,
    );
    expect(screen.getByText("settled after a gateway restart")).toBeTruthy();
    expect(screen.getByText("retry of cancel-0")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
  });
});
