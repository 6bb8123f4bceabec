"""HPACK's static Huffman code (RFC 7541 Appendix B), decoder and encoder.

The code is canonical (RFC 7541 section 5.2 and Appendix B): codes of one length are
consecutive integers and shorter codes sort first. So the 257 code lengths below are
all that is needed; the codes are rebuilt from them at import (huffman_test.py checks
them against codes printed in the RFC).
"""

from typing import Dict, List, Tuple

EOS = 256

#: Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B.
# fmt: off
CODE_LENGTHS = (
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
    30,
)
# fmt: on


class HuffmanError(ValueError):
    """A Huffman-coded string that RFC 7541 section 5.2 says to refuse."""


def _build() -> Tuple[List[int], Dict[int, Tuple[int, int, int]]]:
    """Codes per symbol, and per length: (first code, count, offset into symbols by code)."""
    order = sorted(range(257), key=lambda s: (CODE_LENGTHS[s], s))
    codes = [0] * 257
    per_length: Dict[int, Tuple[int, int, int]] = {}
    code, prev = -1, CODE_LENGTHS[order[0]]
    for i, sym in enumerate(order):
        length = CODE_LENGTHS[sym]
        code = (code + 1) << (length - prev)
        prev = length
        codes[sym] = code
        first, count, offset = per_length.get(length, (code, 0, i))
        per_length[length] = (first, count + 1, offset)
    return codes, per_length


CODES, _PER_LENGTH = _build()
_BY_CODE_ORDER = sorted(range(257), key=lambda s: (CODE_LENGTHS[s], s))
# For each bit length 0..30: (first code, count, offset) or None when no code has that length.
_TABLE = [_PER_LENGTH.get(n) for n in range(31)]


def decode(data: bytes) -> bytes:
    """Decode one Huffman-coded string; linear in len(data) (one step per bit)."""
    out = bytearray()
    code = 0
    length = 0
    table = _TABLE
    for byte in data:
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            entry = table[length] if length <= 30 else None
            if entry is None:
                if length > 30:
                    raise HuffmanError("Huffman code longer than 30 bits")
                continue
            first, count, offset = entry
            index = code - first
            if 0 <= index < count:
                sym = _BY_CODE_ORDER[offset + index]
                if sym == EOS:
                    raise HuffmanError("Huffman-coded string contains EOS")
                out.append(sym)
                code = 0
                length = 0
    # What is left must be padding: fewer than 8 bits, all ones (the start of EOS).
    if length > 7:
        raise HuffmanError(f"Huffman padding longer than 7 bits ({length})")
    if code != (1 << length) - 1:
        raise HuffmanError("Huffman padding is not all ones")
    return bytes(out)


def encode(data: bytes) -> bytes:
    """Huffman-code a string (used by tests; the client's encoder sends raw literals)."""
    acc = 0
    bits = 0
    for byte in data:
        acc = (acc << CODE_LENGTHS[byte]) | CODES[byte]
        bits += CODE_LENGTHS[byte]
    pad = -bits % 8
    acc = (acc << pad) | ((1 << pad) - 1)
    return acc.to_bytes((bits + pad) // 8, "big")
