import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./gateway-config.js";

const SECRET = "notify-secret-0123456789";

describe("--notify-webhook", () => {
  it("reads slack= and json= (the default) webhooks, the secret from the environment, and defaults", () => {
    const c = loadGatewayConfig(
      { "notify-webhook": ["slack=https://hooks.example/T/B/x", "https://ops.example/hook"] },
      { STALLWATCH_NOTIFY_SECRET: SECRET },
    );
    expect(c.notify.webhooks.map((w) => [w.format, w.url.href])).toEqual([
      ["slack", "https://hooks.example/T/B/x"],
      ["json", "https://ops.example/hook"],
    ]);
    expect(c.notify).toMatchObject({
      secret: SECRET,
      allowPrivate: false,
      perMinute: 30,
      timeoutMs: 5000,
    });
  });

  it("refuses a JSON webhook without a secret, credentials in a URL, and what is not http(s)", () => {
    expect(() => loadGatewayConfig({ "notify-webhook": "https://ops.example/hook" }, {})).toThrow(
      /needs --notify-secret-file/,
    );
    for (const bad of ["slack=https://u:p@hooks.example/x", "ftp://ops.example/x", "json=nope"]) {
      expect(() =>
        loadGatewayConfig({ "notify-webhook": bad }, { STALLWATCH_NOTIFY_SECRET: SECRET }),
      ).toThrow(/--notify-webhook/);
    }
  });
});
