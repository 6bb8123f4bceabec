import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { toJsonString } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetWorkerResponseSchema } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import { clientsFor, openSession } from "../../testing/protocol-fixtures.js";
import type { ExecuteDriver } from "../../engine/execute-driver.js";
import {
  freshDbPath,
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../../testing/spawn-stallwatch.js";

/**
 * Issue 19, item 5: secrets planted in a real session's task context, as an
 * engine sends them and a real agent announces them, must not be readable
 * anywhere the gateway serves or stores them. `spark.hadoop.fs.s3a.secret.key`
 * was stored verbatim: twice in the snapshot, in its gzip body on disk, and in
 * an anonymous GetWorker.
 */
const PLANTED: Record<string, string> = {
  "spark.hadoop.fs.s3a.secret.key": "S3SECRETVALUE",
  "spark.hadoop.fs.s3a.access.key": "S3ACCESSKEYVALUE",
  "fs.s3a.session.token": "S3SESSIONTOKENVALUE",
  "fs.azure.account.key.acct.dfs.core.windows.net": "AZUREACCOUNTKEYVALUE",
  "fs.azure.account.oauth2.client.secret": "AZUREOAUTHSECRETVALUE",
  "fs.azure.sas.logs.acct.blob.core.windows.net": "AZURESASVALUE",
  "fs.gs.auth.service.account.private.key": "GCSPRIVATEKEYVALUE",
  "spark.authenticate.secret": "SPARKAUTHSECRETVALUE",
  "spark.ssl.keyStorePassword": "KEYSTOREPASSWORDVALUE",
  AWS_SESSION_TOKEN: "AWSSESSIONTOKENVALUE",
  AZURE_STORAGE_KEY: "AZURESTORAGEKEYVALUE",
};
const CARRIERS: Record<string, string> = {
  "spark.jdbc.url": "jdbc:postgresql://db:5432/app?user=etl&password=JDBCPASSWORDVALUE",
  "spark.jdbc.oracle": "jdbc:oracle:thin:etl/ORACLEPASSWORDVALUE@//db:1521/ORCL",
};
const INNOCENT: Record<string, string> = {
  "spark.executor.memory": "4g",
  "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
};
const SECRETS = [...Object.values(PLANTED), "JDBCPASSWORDVALUE", "ORACLEPASSWORDVALUE"];

describe("secrets planted in a real agent's task context (issue 19, item 5)", () => {
  let gateway: StallwatchProcess;
  let worker: StallwatchProcess;
  let driver: ExecuteDriver;
  let http: string;
  let db: string;

  beforeAll(async () => {
    db = freshDbPath();
    gateway = await startStallwatch(["gateway", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"], {
      env: { STALLWATCH_DB: db },
    });
    http = String(gateway.listening.http);
    worker = await startStallwatch([
      ...["worker", "--listen", "127.0.0.1:0", "--id", "planted"],
      ...["--gateway", String(gateway.listening.grpc)],
    ]);
    const { udf } = clientsFor(String(worker.listening.address));
    ({ driver } = await openSession(
      udf,
      { fn: "hang" },
      { taskContext: { ...PLANTED, ...CARRIERS, ...INNOCENT } },
    ));
  });
  afterAll(async () => {
    driver.abort();
    await Promise.all([worker.stop(), gateway.stop()]);
    killAllStarted();
  });

  const leaked = (text: string) => SECRETS.filter((s) => text.includes(s));

  it("an anonymous GetWorker shows the keys, [REDACTED] values and the innocent ones whole", async () => {
    const res = await pollUntil(
      async () => {
        const r = await apiClients(http).fleet.getWorker({ workerId: "planted" });
        return r.detail?.sessions.some((s) => s.session?.taskContext["spark.executor.memory"])
          ? r
          : undefined;
      },
      { timeoutMs: 30_000, what: "the planted session in GetWorker" },
    );
    const context = res.detail?.sessions[0]?.session?.taskContext ?? {};
    for (const key of Object.keys(PLANTED)) expect(context[key], key).toBe("[REDACTED]");
    expect(context).toMatchObject(INNOCENT);
    expect(context["spark.jdbc.url"]).toBe(
      "jdbc:postgresql://db:5432/app?user=etl&password=[REDACTED]",
    );
    expect(leaked(toJsonString(GetWorkerResponseSchema, res))).toEqual([]);
  });

  it("a snapshot, its gzip body in the database and the database files hold none of them", async () => {
    const { snapshots } = apiClients(http);
    const { info } = await snapshots.createSnapshot({ workerId: "planted", note: "planted" });
    const { snapshot } = await snapshots.getSnapshot({ id: info?.id ?? "" });
    const json = toJsonString(SnapshotSchema, snapshot ?? ({} as never));
    expect(json).toContain("spark.hadoop.fs.s3a.secret.key");
    expect(json).toContain("[REDACTED]");
    expect(leaked(json)).toEqual([]);

    const store = new Database(db, { readonly: true });
    try {
      const row = store.prepare("SELECT body FROM snapshots WHERE id = ?").get(info?.id) as
        { body: Buffer } | undefined;
      const body = gunzipSync(row?.body ?? Buffer.alloc(0)).toString("latin1");
      expect(body).toContain("spark.hadoop.fs.s3a.secret.key");
      expect(leaked(body)).toEqual([]);
    } finally {
      store.close();
    }
    // Everything else stored (events, fleet rows), in the files as they are on disk.
    for (const file of [db, `${db}-wal`].filter((f) => existsSync(f)))
      expect(leaked(readFileSync(file).toString("latin1")), file).toEqual([]);
  });
});
