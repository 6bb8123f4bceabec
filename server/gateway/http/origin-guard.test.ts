import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { originAllowed } from "./origin-guard.js";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("originAllowed", () => {
  it("allows same-origin and origin-less requests", () => {
    expect(
      originAllowed(req({ host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" }), []),
    ).toBe(true);
    expect(originAllowed(req({ host: "127.0.0.1:8080" }), [])).toBe(true);
  });

  it("refuses other origins unless configured", () => {
    const evil = req({ host: "127.0.0.1:8080", origin: "http://evil.example" });
    expect(originAllowed(evil, [])).toBe(false);
    expect(originAllowed(evil, ["http://evil.example"])).toBe(true);
  });
});
