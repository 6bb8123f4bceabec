import { describe, expect, it } from "vitest";
import { Role } from "../../../gen/stallwatch/v1/control_pb.js";
import { rateLimitKey } from "./snapshot-service.js";

describe("rateLimitKey", () => {
  it("keys authenticated callers by who they are, anyone else by peer IP without the port", () => {
    const anonymous = { role: Role.VIEWER, actor: "anonymous", reason: "" };
    expect(rateLimitKey({ role: Role.OPERATOR, actor: "alice", reason: "" }, "10.0.0.5:4000")).toBe(
      "actor:alice",
    );
    expect(rateLimitKey({ role: Role.VIEWER, actor: "viewer (token)", reason: "" }, "x:1")).toBe(
      "actor:viewer (token)",
    );
    expect(rateLimitKey(anonymous, "127.0.0.1:50123")).toBe("peer:127.0.0.1");
    expect(rateLimitKey(anonymous, "[::ffff:127.0.0.1]:50123")).toBe("peer:[::ffff:127.0.0.1]");
  });
});
