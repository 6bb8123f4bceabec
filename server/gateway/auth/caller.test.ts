import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Role } from "../../../gen/stallwatch/v1/control_pb.js";
import { identifyCaller, requireOperator, requireSnapshotLister } from "./caller.js";

const headers = (init: Record<string, string> = {}) => new Headers(init);

describe("identifyCaller", () => {
  const config = { operatorToken: "s3cret-operator-token", readOnly: false };

  it("makes a caller with the right bearer token an operator", () => {
    expect(
      identifyCaller(headers({ authorization: "Bearer s3cret-operator-token" }), config).role,
    ).toBe(Role.OPERATOR);
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
    const c = identifyCaller(headers({ authorization: "Bearer s3cret-operator-token" }), {
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
    const config = { operatorToken: "s3cret-operator-token", readOnly: false };
    expect(code(() => requireOperator(headers(), config))).toBe(Code.Unauthenticated);
    expect(code(() => requireOperator(headers({ authorization: "Bearer x" }), config))).toBe(
      Code.Unauthenticated,
    );
    expect(
      code(() =>
        requireOperator(headers({ authorization: "Bearer s3cret-operator-token" }), config),
      ),
    ).toBeUndefined();
  });

  it("answers PermissionDenied when no one may act", () => {
    expect(code(() => requireOperator(headers(), { readOnly: false }))).toBe(Code.PermissionDenied);
    expect(
      code(() =>
        requireOperator(headers(), { operatorToken: "operator-token-16", readOnly: true }),
      ),
    ).toBe(Code.PermissionDenied);
  });
});

describe("requireSnapshotLister", () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return ConnectError.from(err);
    }
    return undefined;
  };
  const config = {
    operatorToken: "operator-token-0123",
    viewerToken: "viewer-token-0123456",
    readOnly: false,
  };
  const bearer = (token: string) => headers({ authorization: `Bearer ${token}` });

  it("lets operators and holders of the viewer token list", () => {
    expect(requireSnapshotLister(bearer("operator-token-0123"), config).role).toBe(Role.OPERATOR);
    expect(requireSnapshotLister(bearer("viewer-token-0123456"), config).actor).toBe(
      "viewer (token)",
    );
    const proxied = { identityHeader: "x-forwarded-user", readOnly: false };
    expect(requireSnapshotLister(headers({ "x-forwarded-user": "alice" }), proxied).actor).toBe(
      "alice",
    );
  });

  it("refuses anyone else with a clear reason", () => {
    const missing = codeOf(() => requireSnapshotLister(headers(), config));
    expect(missing?.code).toBe(Code.Unauthenticated);
    expect(missing?.rawMessage).toMatch(/operator role or the viewer token: no token sent/);
    expect(codeOf(() => requireSnapshotLister(bearer("guess-guess-guess"), config))?.code).toBe(
      Code.Unauthenticated,
    );
    expect(codeOf(() => requireSnapshotLister(headers(), { readOnly: false }))?.code).toBe(
      Code.PermissionDenied,
    );
  });

  it("keeps the viewer token working on a read-only gateway, and grants it no actions", () => {
    const readOnly = { viewerToken: "viewer-token-0123456", readOnly: true };
    expect(requireSnapshotLister(bearer("viewer-token-0123456"), readOnly).actor).toBe(
      "viewer (token)",
    );
    const acting = codeOf(() => requireOperator(bearer("viewer-token-0123456"), config));
    expect(acting?.code).toBe(Code.Unauthenticated);
    expect(acting?.rawMessage).toMatch(/viewer token grants listing snapshots, not actions/);
  });
});
