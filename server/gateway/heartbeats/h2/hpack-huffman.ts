/**
 * HPACK's Huffman code (RFC 7541, Appendix B). The code is canonical: ordered
 * by (length, symbol), each code is the previous one plus one, shifted left
 * when the length grows. So the bit lengths alone define it, and the codes are
 * derived here rather than typed out. Pinned by the RFC's examples in
 * hpack-decoder.test.ts.
 */
// prettier-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30, // EOS
];

const EOS = 256;

/**
 * The decoding tree as two parallel child arrays: node 0 is the root, a
 * non-negative entry is an inner node, `-1 - symbol` is a leaf, and 0 (never a
 * child) means no code continues that way.
 */
const zero = new Int32Array(512);
const one = new Int32Array(512);

(function buildTree() {
  const symbols = CODE_LENGTHS.map((length, symbol) => ({ length, symbol })).sort(
    (a, b) => a.length - b.length || a.symbol - b.symbol,
  );
  let code = 0;
  let previousLength = symbols[0]?.length ?? 0;
  let nodes = 1;
  for (const { length, symbol } of symbols) {
    code <<= length - previousLength;
    previousLength = length;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const branch = (code >>> bit) & 1 ? one : zero;
      if (bit === 0) {
        branch[node] = -1 - symbol;
      } else {
        if (branch[node] === 0) branch[node] = nodes++;
        node = branch[node] ?? 0;
      }
    }
    code += 1;
  }
})();

/**
 * Decodes a Huffman-coded string. Linear in its input. Throws on EOS inside
 * the string or padding that is longer than 7 bits or not all ones (RFC 7541
 * section 5.2).
 */
export function huffmanDecode(input: Uint8Array, start: number, end: number): string {
  let out = "";
  let node = 0;
  let depth = 0;
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = input[i] ?? 0;
    for (let bit = 7; bit >= 0; bit--) {
      const isOne = (byte >>> bit) & 1;
      const next = (isOne ? one : zero)[node] ?? 0;
      depth += 1;
      allOnes = allOnes && isOne === 1;
      if (next < 0) {
        const symbol = -1 - next;
        if (symbol === EOS) throw new Error("HPACK: EOS inside a Huffman string");
        out += String.fromCharCode(symbol);
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new Error("HPACK: invalid Huffman code");
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || !allOnes) throw new Error("HPACK: invalid Huffman padding");
  return out;
}
