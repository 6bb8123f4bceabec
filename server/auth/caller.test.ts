import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Role } from "../../gen/stallwatch/v1/control_pb.js";
import { identifyCaller, requireOperator } from "./caller.js";

const headers = (init: Record<string, string> = {}) => new Headers(init);

describe("identifyCaller", () => {
  const config = { operatorToken: "s3cret", readOnly: false };

  it("makes a caller with the right bearer token an operator", () => {
    expect(identifyCaller(headers({ authorization: "Bearer s3cret" }), config).role).toBe(
      Role.OPERATOR,
    );
  });

  it("keeps callers without or with a wrong token viewers, saying why", () => {
    expect(identifyCaller(headers(), config)).toMatchObject({
      role: Role.VIEWER,
      reason: "no operator token sent",
    });
    expect(identifyCaller(headers({ authorization: "Bearer nope" }), config).reason).toBe(
      "the operator token is wrong",
    );
  });

  it("trusts the identity header only when configured", () => {
    const proxied = { readOnly: false, identityHeader: "x-forwarded-user" };
    expect(identifyCaller(headers({ "x-forwarded-user": "alice" }), proxied)).toMatchObject({
      role: Role.OPERATOR,
      actor: "alice",
    });
    expect(identifyCaller(headers({ "x-forwarded-user": "alice" }), config).role).toBe(Role.VIEWER);
  });

  it("is read-only for everyone when the gateway says so", () => {
    const c = identifyCaller(headers({ authorization: "Bearer s3cret" }), {
      ...config,
      readOnly: true,
    });
    expect(c.role).toBe(Role.VIEWER);
    expect(c.reason).toMatch(/read-only/);
  });
});

describe("requireOperator", () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return ConnectError.from(err).code;
    }
    return undefined;
  };

  it("answers Unauthenticated for a missing or wrong token", () => {
    const config = { operatorToken: "s3cret", readOnly: false };
    expect(code(() => requireOperator(headers(), config))).toBe(Code.Unauthenticated);
    expect(code(() => requireOperator(headers({ authorization: "Bearer x" }), config))).toBe(
      Code.Unauthenticated,
    );
    expect(
      code(() => requireOperator(headers({ authorization: "Bearer s3cret" }), config)),
    ).toBeUndefined();
  });

  it("answers PermissionDenied when no one may act", () => {
    expect(code(() => requireOperator(headers(), { readOnly: false }))).toBe(Code.PermissionDenied);
    expect(code(() => requireOperator(headers(), { operatorToken: "t", readOnly: true }))).toBe(
      Code.PermissionDenied,
    );
  });
});
