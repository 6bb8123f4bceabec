import { describe, expect, it } from "vitest";
import { HpackDecoder } from "./hpack-decoder.js";
import { huffmanDecode } from "./hpack-huffman.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const decodeAll = (s: string) => {
  const b = hex(s);
  return huffmanDecode(b, 0, b.length);
};

describe("huffmanDecode", () => {
  // RFC 7541, Appendix C.4 and C.6: strings as the RFC encodes them.
  it.each([
    ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
    ["a8eb 1064 9cbf", "no-cache"],
    ["25a8 49e9 5ba9 7d7f", "custom-key"],
    ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
    ["6402", "302"],
    ["aec3 771a 4b", "private"],
    ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ])("decodes %s", (encoded, text) => {
    expect(decodeAll(encoded)).toBe(text);
  });

  it("refuses padding that is not all ones, or longer than 7 bits", () => {
    expect(() => decodeAll("f1e3 c2e5 f23a 6ba0 ab90 f4fe")).toThrow(/padding/);
    expect(() => decodeAll("a8eb 1064 9cbf ff")).toThrow(/padding/);
  });

  it("refuses EOS inside a string", () => {
    expect(() => decodeAll("ffff fffc")).toThrow(/EOS/);
  });
});

describe("HpackDecoder", () => {
  it("decodes RFC 7541 C.3: three requests sharing a dynamic table", () => {
    const d = new HpackDecoder();
    expect([...d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"), 4096)]).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    expect(Object.fromEntries(d.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865"), 4096))).toEqual({
      ":method": "GET",
      ":scheme": "http",
      ":path": "/",
      ":authority": "www.example.com",
      "cache-control": "no-cache",
    });
    expect(
      Object.fromEntries(
        d.decode(
          hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
          4096,
        ),
      ),
    ).toEqual({
      ":method": "GET",
      ":scheme": "https",
      ":path": "/index.html",
      ":authority": "www.example.com",
      "custom-key": "custom-value",
    });
  });

  it("decodes RFC 7541 C.4: Huffman-coded literals", () => {
    const d = new HpackDecoder();
    expect(
      d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), 4096).get(":authority"),
    ).toBe("www.example.com");
    expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf"), 4096).get("cache-control")).toBe(
      "no-cache",
    );
  });

  it("evicts by size: RFC 7541 C.5 with a 256-octet table", () => {
    const d = new HpackDecoder();
    d.decode(hex("3fe1 01"), 4096); // dynamic table size update to 256
    const first = hex(
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    );
    expect(d.decode(first, 4096).get(":status")).toBe("302");
    // ":status: 307" evicts ":status: 302"; the other three stay indexed.
    const second = hex("4803 3330 37c1 c0bf");
    expect(Object.fromEntries(d.decode(second, 4096))).toEqual({
      ":status": "307",
      "cache-control": "private",
      date: "Mon, 21 Oct 2013 20:13:21 GMT",
      location: "https://www.example.com",
    });
  });

  it("refuses bad input instead of guessing", () => {
    expect(() => new HpackDecoder().decode(hex("80"), 4096)).toThrow(/index 0/);
    expect(() => new HpackDecoder().decode(hex("be"), 4096)).toThrow(/no entry/);
    expect(() => new HpackDecoder().decode(hex("4005 6162"), 4096)).toThrow(/truncated/);
    expect(() => new HpackDecoder().decode(hex("3fe2 1f"), 4096)).toThrow(/table size/);
    expect(() => new HpackDecoder().decode(hex("ff ff ff ff 7f"), 4096)).toThrow(/too large/);
    expect(() =>
      new HpackDecoder().decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"), 40),
    ).toThrow(/header list too large/);
  });
});
