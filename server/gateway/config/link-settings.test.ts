import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./gateway-config.js";

describe("--public-url", () => {
  it("is unset by default, and read from the flag or STALLWATCH_PUBLIC_URL without a trailing slash", () => {
    expect(loadGatewayConfig({}, {}).publicUrl).toBeUndefined();
    expect(loadGatewayConfig({ "public-url": "https://sw.example/ops/" }, {}).publicUrl).toBe(
      "https://sw.example/ops",
    );
    expect(loadGatewayConfig({}, { STALLWATCH_PUBLIC_URL: "http://sw:8080" }).publicUrl).toBe(
      "http://sw:8080",
    );
  });

  it("refuses what is not an http(s) URL, or carries a query", () => {
    for (const bad of ["sw.example", "ftp://sw.example", "https://sw.example/?a=1"]) {
      expect(() => loadGatewayConfig({ "public-url": bad }, {})).toThrow(/--public-url/);
    }
  });
});
