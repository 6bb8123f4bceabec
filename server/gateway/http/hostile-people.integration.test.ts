import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlService } from "../../../gen/stallwatch/v1/control_pb.js";
import { FleetService, Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { connectCall, rawRequest } from "../../testing/raw-http.js";
import { killAllStarted, runStallwatch } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, testGatewayArgs, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent, type TestWorker } from "../../testing/test-worker.js";

/**
 * Hostile people-facing peers against a real gateway process: the dashboard
 * API looked for on the worker port, a spoofed identity header, DNS
 * rebinding (a foreign Host), snapshot listing without a role. Only loopback
 * addresses: 127.0.0.2 and 127.0.0.3 stand in for other hosts.
 */
const OPERATOR = "operator-token-0123456789";
const VIEWER = "viewer-token-0123456789";
const TRUSTED_PROXY = "127.0.0.2";

function tokenFile(name: string, token: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "sw-token-")), name);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return path;
}

const codeOf = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return "succeeded";
};

describe("hostile people-facing peers", () => {
  let gateway: TestGateway;
  let victim: TestWorker;
  let http: string;
  let grpc: string;

  beforeAll(async () => {
    gateway = await startTestGateway({
      flags: {
        "operator-token-file": tokenFile("operator", OPERATOR),
        "viewer-token-file": tokenFile("viewer", VIEWER),
        "identity-header": "x-forwarded-user",
        "trusted-proxy": [`${TRUSTED_PROXY}/32`, "fd00::/8"],
        "allowed-host": "stallwatch.test",
      },
    });
    ({ http, grpc } = gateway);
    victim = await startHealthyAgent(gateway, "victim", { healthyWithinMs: 20_000 });
  });
  afterAll(async () => {
    await Promise.all([victim.stop(), gateway.stop()]);
    killAllStarted();
  });

  it("does not serve the dashboard API on --grpc, whatever the protocol or headers", async () => {
    const evil = { "x-forwarded-user": "mallory", authorization: `Bearer ${OPERATOR}` };
    const transports = [
      createGrpcTransport({ baseUrl: `http://${grpc}` }),
      createConnectTransport({ baseUrl: `http://${grpc}`, httpVersion: "2" }),
      createGrpcWebTransport({ baseUrl: `http://${grpc}`, httpVersion: "2" }),
    ];
    for (const transport of transports) {
      const fleet = createClient(FleetService, transport);
      const control = createClient(ControlService, transport);
      const snapshots = createClient(SnapshotService, transport);
      const opts = { headers: evil, timeoutMs: 3000 };
      const codes = [
        await codeOf(fleet.listWorkers({}, opts)),
        await codeOf(
          control.cancelWorker({ workerId: "victim", reason: "pwned", actionId: "x1" }, opts),
        ),
        await codeOf(snapshots.createSnapshot({}, opts)),
        await codeOf(snapshots.listSnapshots({}, opts)),
      ];
      for (const code of codes) expect(code).not.toBe("succeeded");
    }
    // The gRPC answer names the method as unknown.
    const grpcFleet = createClient(
      FleetService,
      createGrpcTransport({ baseUrl: `http://${grpc}` }),
    );
    expect(await codeOf(grpcFleet.listWorkers({}, { timeoutMs: 3000 }))).toBe(Code.Unimplemented);
    // The victim was not touched: still running and healthy.
    const { workers } = await apiClients(http).fleet.listWorkers({});
    expect(workers.find((w) => w.id === "victim")?.liveness).toBe(Liveness.HEALTHY);
    expect(victim.child.exitCode).toBeNull();
  });

  it("ignores the identity header from a peer outside --trusted-proxy, and says so once", async () => {
    const asMallory = { headers: { "x-forwarded-user": "mallory" } };
    const who = await connectCall(http, "ControlService/WhoAmI", {}, asMallory);
    expect(who.status).toBe(200);
    expect(JSON.parse(who.body)).toMatchObject({ role: "ROLE_VIEWER", actor: "anonymous" });
    const cancel = await connectCall(
      http,
      "ControlService/CancelWorker",
      { workerId: "victim", reason: "pwned", actionId: "mallory-1" },
      asMallory,
    );
    expect(cancel.status).toBe(401);
    expect(cancel.body).toContain("operator role required");
    const ignored = gateway.logs.filter((l) =>
      String(l.msg).startsWith("identity header from a peer outside --trusted-proxy ignored"),
    );
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ peer: "127.0.0.1", header: "x-forwarded-user" });
    const metrics = await rawRequest(http, { path: "/metrics", headers: { host: http } });
    expect(metrics.body).toMatch(/stallwatch_identity_header_ignored_total [2-9]/);
    expect(victim.child.exitCode).toBeNull();

    // The same header through the trusted proxy's address makes an operator.
    const proxied = await connectCall(
      http,
      "ControlService/WhoAmI",
      {},
      { headers: { "x-forwarded-user": "alice" }, localAddress: TRUSTED_PROXY },
    );
    expect(JSON.parse(proxied.body)).toMatchObject({ role: "ROLE_OPERATOR", actor: "alice" });
  });

  it("refuses a foreign Host (DNS rebinding) on every route, static files included", async () => {
    // A real built asset when the SPA is built (npm test builds it), else a
    // name: the guard answers before the static handler either way.
    const assets = new URL("../../dist/web/assets/", import.meta.url);
    const asset =
      (existsSync(assets) ? readdirSync(assets).find((f) => f.endsWith(".js")) : undefined) ??
      "index.js";
    const routes: { method?: string; path: string; body?: string }[] = [
      { path: "/" },
      { path: "/index.html" },
      { path: `/assets/${asset}` },
      { path: "/workers/victim?tab=threads" },
      { path: "/snapshots" },
      { path: "/metrics" },
      { path: "/healthz" },
      { path: "/readyz" },
      ...[
        "FleetService/ListWorkers",
        "FleetService/GetWorker",
        "ControlService/WhoAmI",
        "ControlService/CancelWorker",
        "SnapshotService/CreateSnapshot",
        "SnapshotService/ListSnapshots",
      ].map((m) => ({ method: "POST", path: `/stallwatch.v1.${m}`, body: "{}" })),
    ];
    const port = http.slice(http.lastIndexOf(":") + 1);
    for (const route of routes) {
      for (const host of [`evil.test:${port}`, "evil.test", `localhost.evil.test:${port}`]) {
        const res = await rawRequest(http, {
          ...route,
          headers: {
            host,
            origin: `http://${host}`,
            "content-type": "application/json",
            // Rebinding in identity-header mode must not be an operator either.
            "x-forwarded-user": "mallory",
          },
          localAddress: TRUSTED_PROXY,
        });
        expect(res.status, `${route.path} with Host ${host}`).toBe(421);
        expect(res.body).toContain("is not a name of this gateway");
        expect(res.body).toContain("--allowed-host");
        expect(res.headers["x-frame-options"]).toBe("DENY");
      }
      // Our own names still work on the same route.
      for (const host of [http, `localhost:${port}`, `stallwatch.test:${port}`]) {
        const res = await rawRequest(http, {
          ...route,
          headers: { host, "content-type": "application/json" },
        });
        expect(res.status, `${route.path} with Host ${host}`).not.toBe(421);
      }
    }
    const logged = gateway.logs.filter((l) =>
      String(l.msg).startsWith("request for a foreign Host refused"),
    );
    // Once a minute per host name, not once per request.
    expect(logged).toHaveLength(3);
    const metrics = await rawRequest(http, { path: "/metrics", headers: { host: http } });
    expect(metrics.body).toContain(
      `stallwatch_http_refused_total{reason="host"} ${routes.length * 3}`,
    );
    expect(victim.child.exitCode).toBeNull();
  });

  it("sends frame-ancestors 'none' and X-Frame-Options: DENY on the SPA and the API", async () => {
    const responses = [
      await rawRequest(http, { path: "/", headers: { host: http } }),
      await rawRequest(http, {
        path: "/workers/victim",
        headers: { host: http, accept: "text/html" },
      }),
      await rawRequest(http, { path: "/metrics", headers: { host: http } }),
      await connectCall(http, "FleetService/ListWorkers", {}),
      await connectCall(http, "SnapshotService/GetSnapshot", { id: "A".repeat(22) }),
    ];
    for (const res of responses) {
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(String(res.headers["content-security-policy"])).toContain("frame-ancestors 'none'");
    }
    expect(responses.at(-1)?.status).toBe(404);
  });

  it("lists snapshots only for operators and holders of the viewer token", async () => {
    const created = await apiClients(http, OPERATOR).snapshots.createSnapshot({ note: "ours" });
    const anonymous = await connectCall(http, "SnapshotService/ListSnapshots", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain(
      "listing snapshots needs the operator role or the viewer token",
    );
    expect(await codeOf(apiClients(http, "not-the-token-at-all").snapshots.listSnapshots({}))).toBe(
      Code.Unauthenticated,
    );
    const spoofed = await connectCall(
      http,
      "SnapshotService/ListSnapshots",
      {},
      { headers: { "x-forwarded-user": "mallory" } },
    );
    expect(spoofed.status).toBe(401);
    for (const token of [OPERATOR, VIEWER]) {
      const { snapshots } = await apiClients(http, token).snapshots.listSnapshots({});
      expect(snapshots.map((s) => s.id)).toContain(created.info?.id);
    }
    // The permalink itself stays readable without a role: the id is the secret.
    const one = await apiClients(http).snapshots.getSnapshot({
      id: created.info?.id ?? "",
      summary: true,
    });
    expect(one.snapshot?.info?.note).toBe("ours");
    // A viewer token grants no actions.
    expect(
      await codeOf(
        apiClients(http, VIEWER).control.cancelWorker({
          workerId: "victim",
          reason: "no",
          actionId: "viewer-1",
        }),
      ),
    ).toBe(Code.Unauthenticated);
  });
});

describe("a snapshot flood", () => {
  let gateway: TestGateway;
  let http: string;

  beforeAll(async () => {
    gateway = await startTestGateway({
      flags: { "snapshots-per-minute": 3, "snapshots-per-minute-total": 30 },
      env: { STALLWATCH_OPERATOR_TOKEN: OPERATOR },
    });
    http = gateway.http;
  });
  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  it("is cut off per caller with ResourceExhausted, while other callers are unaffected", async () => {
    const results = [];
    for (let i = 0; i < 12; i++)
      results.push(
        await connectCall(http, "SnapshotService/CreateSnapshot", { note: `flood ${i}` }),
      );
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    for (const refused of results.slice(3)) {
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toMatchObject({
        code: "resource_exhausted",
        message: expect.stringMatching(
          /^too many snapshots: at most 3 per minute per caller; try again in \d+ s$/,
        ) as unknown,
      });
    }
    // Another peer and an operator each still have their own budget.
    const other = await connectCall(
      http,
      "SnapshotService/CreateSnapshot",
      {},
      {
        localAddress: "127.0.0.3",
      },
    );
    expect(other.status).toBe(200);
    await apiClients(http, OPERATOR).snapshots.createSnapshot({ note: "incident" });
    const { snapshots } = await apiClients(http, OPERATOR).snapshots.listSnapshots({});
    expect(snapshots).toHaveLength(5);

    const metrics = (await rawRequest(http, { path: "/metrics", headers: { host: http } })).body;
    expect(metrics).toContain('stallwatch_snapshots_refused_total{scope="caller"} 9');
    expect(metrics).toContain('stallwatch_snapshots_refused_total{scope="overall"} 0');
    expect(metrics).toContain("stallwatch_snapshots_created_total 5");
    expect(metrics).toContain('stallwatch_snapshot_rate_limit_per_minute{scope="caller"} 3');
    expect(metrics).toContain('stallwatch_snapshot_rate_limit_per_minute{scope="overall"} 30');
    const logged = gateway.logs.filter((l) => String(l.msg).startsWith("snapshots refused"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ caller: "peer:127.0.0.1", scope: "caller" });
  });
});

describe("token settings at start", () => {
  afterAll(() => killAllStarted());

  it("refuses a short token with a clear config error and exit code 2", async () => {
    const { code, stderr } = await runStallwatch(
      testGatewayArgs({ flags: { "operator-token-file": tokenFile("short", "too-short") } }),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/the operator token must be at least 16 characters \(got 9\)/);
  });

  it("warns when the token is a command-line flag, visible in ps", async () => {
    const gateway = await startTestGateway({ operatorToken: OPERATOR });
    try {
      expect(
        gateway.logs.some((l) => String(l.msg).includes("visible to every local user in `ps`")),
      ).toBe(true);
    } finally {
      await gateway.stop();
    }
  });
});
