import { describe, expect, it } from "vitest";
import { createRedactor } from "./redact.js";

// Real configuration keys from Spark, Hadoop (S3A, ABFS/WASB, GCS), JDBC
// drivers and cloud SDK environments, written as a task context or a config
// dump carries them: `key = value`, `key=value`, `key: value`, JSON.
const redact = createRedactor();
const VALUE = "PlantedV4lue9";

/** Keys whose value is a credential, as Spark's spark.redaction.regex and Hadoop's sensitive-config-keys judge it. */
const SECRET_KEYS = [
  // Spark
  "spark.authenticate.secret",
  "spark.ssl.keyPassword",
  "spark.ssl.keyStorePassword",
  "spark.ssl.trustStorePassword",
  "spark.ssl.ui.keyStorePassword",
  "spark.io.encryption.key",
  "spark.executorEnv.AWS_SECRET_ACCESS_KEY",
  "spark.kubernetes.authenticate.submission.oauthToken",
  // Hadoop S3A, directly and through spark.hadoop.*
  "fs.s3a.access.key",
  "fs.s3a.secret.key",
  "fs.s3a.session.token",
  "fs.s3a.server-side-encryption.key",
  "fs.s3a.encryption.key",
  "fs.s3a.bucket.logs.secret.key",
  "spark.hadoop.fs.s3a.access.key",
  "spark.hadoop.fs.s3a.secret.key",
  "spark.hadoop.fs.s3a.session.token",
  "fs.s3.awsSecretAccessKey",
  // Azure (ABFS, WASB)
  "fs.azure.account.key.mystorageacct.dfs.core.windows.net",
  "fs.azure.account.key.mystorageacct.blob.core.windows.net",
  "spark.hadoop.fs.azure.account.key.mystorageacct.dfs.core.windows.net",
  "fs.azure.account.oauth2.client.secret",
  "fs.azure.account.oauth2.client.secret.mystorageacct.dfs.core.windows.net",
  "fs.azure.sas.mycontainer.mystorageacct.blob.core.windows.net",
  "fs.azure.sas.fixed.token",
  // GCS
  "fs.gs.auth.service.account.private.key",
  "fs.gs.auth.service.account.private.key.id",
  "google.cloud.auth.service.account.private.key",
  "spark.hadoop.google.cloud.auth.service.account.private.key.id",
  // Hive metastore, Kafka, Hadoop credential stores
  "javax.jdo.option.ConnectionPassword",
  "spark.hadoop.javax.jdo.option.ConnectionPassword",
  "kafka.ssl.truststore.password",
  "kafka.sasl.jaas.config.password",
  "hadoop.security.credstore.java-keystore-provider.password",
  "dfs.webhdfs.oauth2.credential",
  // Environment names (AWS, GCP, Azure, databases)
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "AZURE_CLIENT_SECRET",
  "AZURE_STORAGE_KEY",
  "AZURE_STORAGE_ACCOUNT_KEY",
  "PGPASSWORD",
];

/** Keys that look close but hold no secret: their values must stay readable. */
const INNOCENT_KEYS = [
  "spark.executor.memory",
  "spark.driver.host",
  "spark.authenticate",
  "spark.ssl.enabled",
  "spark.ssl.keyStore",
  "spark.ssl.trustStore",
  "spark.sql.shuffle.partitions",
  "spark.redaction.regex",
  "fs.s3a.endpoint",
  "fs.s3a.aws.credentials.provider",
  "spark.hadoop.fs.s3a.aws.credentials.provider",
  "hadoop.security.credential.provider.path",
  "fs.s3a.server-side-encryption-algorithm",
  "fs.azure.account.auth.type",
  "fs.azure.account.oauth.provider.type",
  "fs.azure.account.oauth2.client.id",
  "fs.azure.account.oauth2.client.endpoint",
  "fs.gs.auth.service.account.email",
  "fs.gs.project.id",
  // A path to a key file is not the key; the operator needs it to debug auth.
  "google.cloud.auth.service.account.json.keyfile",
  "AWS_REGION",
  "AZURE_CLIENT_ID",
  "AZURE_STORAGE_ACCOUNT",
];

const SHAPES = [
  (k: string) => `${k} = ${VALUE}`,
  (k: string) => `${k}=${VALUE}`,
  (k: string) => `${k}: ${VALUE}`,
  (k: string) => `{"${k}": "${VALUE}"}`,
  (k: string) => `--conf ${k}=${VALUE} --verbose`,
];

describe("real configuration keys", () => {
  it.each(SECRET_KEYS)("hides the value of %s, keeping the key", (key) => {
    for (const shape of SHAPES) {
      const out = redact(shape(key));
      expect(out, shape(key)).not.toContain(VALUE);
      expect(out).toContain(key);
      expect(out).toContain("[REDACTED]");
    }
  });

  it.each(INNOCENT_KEYS)("leaves %s and its value readable", (key) => {
    for (const shape of SHAPES) expect(redact(shape(key))).toBe(shape(key));
  });

  it("hides the task-context entry the issue found stored verbatim (issue 19, item 5)", () => {
    expect(redact("spark.hadoop.fs.s3a.secret.key = S3SECRETVALUE")).toBe(
      "spark.hadoop.fs.s3a.secret.key = [REDACTED]",
    );
    // The agent ingest probes a task-context key as `key=x`.
    expect(redact("spark.hadoop.fs.s3a.secret.key=x")).not.toContain("=x");
  });

  it("hides JDBC passwords in query strings, properties and user:pass@ forms", () => {
    const urls = [
      `jdbc:postgresql://db:5432/app?user=etl&password=${VALUE}&ssl=true`,
      `jdbc:mysql://etl:${VALUE}@db:3306/app`,
      `jdbc:sqlserver://db:1433;databaseName=app;user=etl;password=${VALUE};encrypt=true`,
      `jdbc:oracle:thin:etl/${VALUE}@//db:1521/ORCL`,
      `jdbc:snowflake://acct.snowflakecomputing.com/?user=etl&private_key_pwd=${VALUE}`,
      `jdbc:redshift://cluster:5439/dev;UID=etl;PWD=${VALUE}`,
    ];
    for (const url of urls) {
      const out = redact(url);
      expect(out, url).not.toContain(VALUE);
      expect(out).toContain("[REDACTED]");
    }
    // No credentials: untouched.
    const plain = "jdbc:postgresql://db:5432/app?user=etl&ssl=true";
    expect(redact(plain)).toBe(plain);
  });

  it("leaves stack frames of files named after tokens and secrets readable", () => {
    for (const frame of [
      "at org.apache.spark.network.crypto.TokenManager.refresh(TokenManager.java:88)",
      "/go/src/app/auth/token.go:45 +0x1f",
      "secrets.py:12 in load",
      "at com.example.PasswordPolicy.check(PasswordPolicy.java:31)",
    ])
      expect(redact(frame)).toBe(frame);
  });
});
