import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withWatchdog } from "../agent-endpoint/testing/watchdog.js";
import { createRedactor, DEFAULT_REDACTION_PATTERNS, unsafePatternReason } from "./redact.js";

describe("createRedactor", () => {
  const redact = createRedactor();

  it("hides common secrets, keeping the key", () => {
    expect(redact("connect(password=hunter2, user=bob)")).toBe(
      "connect(password=[REDACTED], user=bob)",
    );
    expect(redact('{"api_key": "abc123"}')).toBe('{"api_key": "[REDACTED]"}');
    expect(redact("Authorization: Bearer eyJhbGciOi.x.y")).toBe("Authorization: Bearer [REDACTED]");
    expect(redact("postgres://app:s3cret@db:5432/x")).toBe("postgres://app:[REDACTED]@db:5432/x");
  });

  it("catches --flag value, KEY=value, Basic auth and AWS key ids", () => {
    expect(redact("run --token abc123 --verbose")).toBe("run --token [REDACTED] --verbose");
    expect(redact("x --db-password=s3cret")).toBe("x --db-password=[REDACTED]");
    expect(redact("env DB_PASSWORD=hunter2 HOME=/root")).toBe(
      "env DB_PASSWORD=[REDACTED] HOME=/root",
    );
    expect(redact("AWS_SECRET_ACCESS_KEY=wJalr/K7MDENG")).toBe("AWS_SECRET_ACCESS_KEY=[REDACTED]");
    expect(redact("Authorization: Basic dXNlcjpwYXNz")).toBe("Authorization: Basic [REDACTED]");
    expect(redact("key AKIAIOSFODNN7EXAMPLE here")).toBe("key [REDACTED] here");
    expect(redact("https://u:p%40ss@h/x")).toBe("https://u:[REDACTED]@h/x");
  });

  it("leaves ordinary frames and flags alone", () => {
    for (const text of [
      "recv_into (OpenSSL/SSL.py:1821)",
      "--verbose --level 3",
      "tokenize(text) at nlp.py:12",
      "http://host:8080/path",
    ])
      expect(redact(text)).toBe(text);
  });

  it("takes custom patterns", () => {
    expect(createRedactor([String.raw`(?<key>ssn=)\d+`])("ssn=123 password=x")).toBe(
      "ssn=[REDACTED] password=x",
    );
  });

  it("finishes hostile input (1 MiB of a, of =, brackets, repeated keys) in one pass each", () => {
    // Not a timing assert: the vitest timeout is the watchdog; the bench measures.
    const mib = 1 << 20;
    const texts = [
      "a".repeat(mib),
      "=".repeat(mib),
      "[".repeat(mib / 2) + "]".repeat(mib / 2),
      "password".repeat(mib / 8),
      "a://".repeat(mib / 4),
      "-".repeat(mib),
      "bearer ".repeat(Math.floor(mib / 7)),
      // Dotted configuration keys: segments, credential words, no separator.
      "a.".repeat(mib / 2),
      "fs.s3a.secret.key.".repeat(Math.floor(mib / 18)),
      "password.".repeat(Math.floor(mib / 9)),
      "jdbc:oracle:thin:a/".repeat(Math.floor(mib / 20)),
    ];
    withWatchdog(15_000, () => {
      for (const text of texts) expect(redact(text).length).toBeGreaterThan(0);
    });
  }, 20_000);

  it("terminates on any mix of hostile fragments (fuzzed, under a watchdog)", () => {
    const fragment = fc.constantFrom(
      "a",
      "=",
      "[",
      "]",
      "-",
      "--",
      ":",
      "//",
      "@",
      " ",
      "\t",
      "_",
      "password",
      "token",
      "bearer ",
      "a://",
      "x:y",
      "AKIA",
      ".",
      "secret.key",
      "account.key.",
      "jdbc:oracle:thin:",
      '"',
      "'",
    );
    withWatchdog(15_000, () =>
      fc.assert(
        fc.property(fc.array(fragment, { maxLength: 20_000 }), (parts) => {
          expect(typeof redact(parts.join(""))).toBe("string");
        }),
        { numRuns: 200 },
      ),
    );
  }, 30_000);

  it("never leaks a planted secret and is idempotent (fuzzed)", () => {
    const filler = fc.string({ maxLength: 200 }).map((s) => s.replace(/[=:@/-]/g, " "));
    withWatchdog(15_000, () =>
      fc.assert(
        fc.property(
          filler,
          fc.constantFrom("password=", "token: ", "--secret ", "Bearer ", "API_KEY="),
          fc.stringMatching(/^[A-Za-z0-9]{8,40}$/),
          filler,
          (before, key, secret, after) => {
            const text = `${before} ${key}${secret} ${after}`;
            const once = redact(text);
            expect(once).not.toContain(secret);
            expect(redact(once)).toBe(once);
          },
        ),
        { numRuns: 500 },
      ),
    );
  }, 20_000);
});

describe("unsafePatternReason", () => {
  it("accepts the defaults and simple patterns", () => {
    for (const p of [...DEFAULT_REDACTION_PATTERNS, String.raw`(?<key>ssn=)\d+`, "[(a+)+]"])
      expect(unsafePatternReason(p)).toBeUndefined();
  });

  it("refuses nested quantifiers and backreferences", () => {
    for (const p of ["(a+)+", String.raw`(\w*x)*`, "((ab)+c)+", "(a|b+){2,}", String.raw`(a)\1`])
      expect(unsafePatternReason(p)).toBeDefined();
  });
});
