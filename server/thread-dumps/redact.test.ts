import { describe, expect, it } from "vitest";
import { createRedactor } from "./redact.js";

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

  it("leaves ordinary frames alone", () => {
    const frame = "recv_into (OpenSSL/SSL.py:1821)";
    expect(redact(frame)).toBe(frame);
  });

  it("takes custom patterns", () => {
    expect(createRedactor([String.raw`(?<key>ssn=)\d+`])("ssn=123 password=x")).toBe(
      "ssn=[REDACTED] password=x",
    );
  });
});
