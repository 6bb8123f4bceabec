import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { withWatchdog } from "../agent-endpoint/testing/watchdog.js";
import { rawView, readableText } from "./readable-text.js";

const GO = readFileSync(
  new URL("../beam-text/fixtures/go-sdk-status.bin", import.meta.url),
).toString("utf8");

describe("readableText", () => {
  it("drops the Go SDK's NUL padding and keeps its text whole", () => {
    const text = readableText(GO);
    expect(GO.length).toBe(65_536);
    expect(text).toBe(GO.replace(/\0+$/, ""));
    expect(text).toHaveLength(2196);
    expect(text).toMatch(/^goroutine \d+ \[running\]:/);
  });

  it("keeps tabs and line feeds, turns CRLF and lone CR into LF", () => {
    expect(readableText("a\tb\r\nc\rd\ne")).toBe("a\tb\nc\nd\ne");
  });

  it("drops C0/C1 controls, DEL, ANSI colours, zero-width and bidi marks", () => {
    expect(
      readableText("\x1b[31mred\x1b[0m \x07bell\x7f \u0085x \u202egnp.exe\u202c \ufeffz\u200b"),
    ).toBe("red bell x gnp.exe z");
  });

  it("keeps ordinary Unicode", () => {
    const text = "thread «worker-1» — état: bloqué 等待 🚀";
    expect(readableText(text)).toBe(text);
  });

  it("runs in one pass over hostile input (1 MiB of escapes, CRs, NULs)", () => {
    const mib = 1 << 20;
    withWatchdog(10_000, () => {
      for (const t of [
        "\x1b[".repeat(mib / 2),
        "\r".repeat(mib),
        "\0".repeat(mib),
        "\x1b[1;".repeat(mib / 4),
      ])
        expect(typeof readableText(t)).toBe("string");
    });
  });
});

describe("rawView", () => {
  it("keeps a text under the cap as it is", () => {
    expect(rawView("abc", 3)).toEqual({ text: "abc", cutChars: 0 });
  });

  it("cuts a longer one with a visible marker saying how much", () => {
    const view = rawView("x".repeat(10), 4);
    expect(view.cutChars).toBe(6);
    expect(view.text).toMatch(/^xxxx\n…\[truncated 6 chars/);
  });
});
