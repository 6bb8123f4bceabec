"""HPACK and Huffman against RFC 7541's examples (Appendix C), round trips and malformed input."""

import os

import pytest

from . import hpack, huffman


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_canonical_codes_match_the_rfc():
    # A few codes as printed in RFC 7541 Appendix B: (symbol, code, bits).
    for sym, code, bits in [
        (0, 0x1FF8, 13),
        (ord(" "), 0x14, 6),
        (ord("0"), 0x0, 5),
        (ord("a"), 0x3, 5),
        (ord("z"), 0x7B, 7),
        (ord("\\"), 0x7FFF0, 19),
        (127, 0xFFFFFFC, 28),
        (255, 0x3FFFFEE, 26),
        (huffman.EOS, 0x3FFFFFFF, 30),
    ]:
        assert (huffman.CODES[sym], huffman.CODE_LENGTHS[sym]) == (code, bits)
    # A complete prefix code: the Kraft sum is exactly 1.
    assert sum(2 ** (30 - n) for n in huffman.CODE_LENGTHS) == 2**30


def test_huffman_rfc_strings_and_round_trips():
    assert huffman.encode(b"www.example.com") == _hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")
    assert huffman.decode(_hex("a8eb 1064 9cbf")) == b"no-cache"
    assert huffman.decode(_hex("25a8 49e9 5ba9 7d7f")) == b"custom-key"
    for size in (0, 1, 7, 100, 1000):
        data = os.urandom(size)
        assert huffman.decode(huffman.encode(data)) == data
    assert huffman.decode(huffman.encode(bytes(range(256)))) == bytes(range(256))


@pytest.mark.parametrize(
    "data, message",
    [
        (_hex("ffff ffff"), "EOS"),  # 30 ones: EOS itself
        (_hex("f1e3 c2e5 f23a 6ba0 ab90 f4fe"), "not all ones"),  # padding ends in a zero
        (huffman.encode(b"a") + b"\xff", "longer than 7"),  # a whole byte of padding
        (b"\x00", "not all ones"),  # '0' (00000) then 000 padding
    ],
)
def test_huffman_refuses(data, message):
    with pytest.raises(huffman.HuffmanError, match=message):
        huffman.decode(data)


def test_c2_literals_and_indexed():
    d = hpack.Decoder()
    block = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"
    assert d.decode(_hex(block)) == [("custom-key", "custom-header")]
    assert d.table_size == 55
    d = hpack.Decoder()
    assert d.decode(_hex("040c 2f73 616d 706c 652f 7061 7468")) == [(":path", "/sample/path")]
    assert d.decode(_hex("1008 7061 7373 776f 7264 0673 6563 7265 74")) == [("password", "secret")]
    assert d.decode(_hex("82")) == [(":method", "GET")]
    assert d.table_size == 0


REQUEST_1 = [(":method", "GET"), (":scheme", "http"), (":path", "/")]
REQUEST_1 += [(":authority", "www.example.com")]
REQUEST_2 = REQUEST_1 + [("cache-control", "no-cache")]
REQUEST_3 = [(":method", "GET"), (":scheme", "https"), (":path", "/index.html")]
REQUEST_3 += [(":authority", "www.example.com"), ("custom-key", "custom-value")]


@pytest.mark.parametrize(
    "blocks",
    [
        [  # C.3: no Huffman
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ],
        [  # C.4: Huffman
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ],
    ],
)
def test_c3_c4_requests(blocks):
    d = hpack.Decoder()
    for block, expected, size in zip(blocks, [REQUEST_1, REQUEST_2, REQUEST_3], [57, 110, 164]):
        assert d.decode(_hex(block)) == expected
        assert d.table_size == size
    assert d.table[0] == (b"custom-key", b"custom-value")


DATE_1 = ("date", "Mon, 21 Oct 2013 20:13:21 GMT")
LOCATION = ("location", "https://www.example.com")
RESPONSE_1 = [(":status", "302"), ("cache-control", "private"), DATE_1, LOCATION]
RESPONSE_2 = [(":status", "307"), ("cache-control", "private"), DATE_1, LOCATION]
RESPONSE_3 = [(":status", "200"), ("cache-control", "private")]
RESPONSE_3 += [("date", "Mon, 21 Oct 2013 20:13:22 GMT"), LOCATION, ("content-encoding", "gzip")]
RESPONSE_3 += [("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")]


@pytest.mark.parametrize(
    "blocks",
    [
        [  # C.5: no Huffman, a 256-byte table, so entries are evicted
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
            "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
            "6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
            "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
            "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
        ],
        [  # C.6: Huffman, same eviction
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ],
    ],
)
def test_c5_c6_responses_with_eviction(blocks):
    d = hpack.Decoder(max_table_size=256)
    expected_tables = [
        [b"location", b"date", b"cache-control", b":status"],
        [b":status", b"location", b"date", b"cache-control"],
        [b"set-cookie", b"content-encoding", b"date"],
    ]
    for block, expected, names in zip(
        blocks, [RESPONSE_1, RESPONSE_2, RESPONSE_3], expected_tables
    ):
        assert d.decode(_hex(block)) == expected
        assert [name for name, _ in d.table] == names
    assert d.table_size == 215


def test_size_update_evicts_and_is_capped():
    d = hpack.Decoder(max_table_size=4096)
    d.decode(_hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
    assert d.table_size == 55
    assert d.decode(b"\x20") == []  # size update to 0 empties the table
    assert d.table_size == 0
    with pytest.raises(hpack.HpackError, match="over our setting 4096"):
        d.decode(b"\x3f\xe2\x1f")  # 31 + 0x62 + (0x1f << 7) = 4097
    with pytest.raises(hpack.HpackError, match="after a header field"):
        d.decode(b"\x82\x20")


def test_encoder_round_trip():
    headers = [(":method", "POST"), (":path", "/stallwatch.v1.AgentService/Connect")]
    headers += [("authorization", "Bearer " + "x" * 300), ("empty", "")]
    assert hpack.Decoder().decode(hpack.encode(headers)) == headers
    for value in (0, 1, 14, 15, 126, 127, 128, 1337, 2**31 - 1):
        for prefix in (4, 5, 6, 7):
            encoded = hpack.encode_integer(value, prefix)
            assert hpack.decode_integer(encoded, 0, prefix) == (value, len(encoded))


@pytest.mark.parametrize(
    "block, message",
    [
        (b"\x80", "index 0"),
        (b"\xbe", "index 62 out of range"),
        (b"\xff\x80\x80\x80\x80\x80\x00", "longer than 6 bytes"),  # zeros, but too many
        (b"\xff\x80\x80\x80\x80\x10", "integer over"),  # 127 + 2^32
        (b"\xff", "ends inside an integer"),
        (b"\x00\x05abc", "runs past the header block"),
        (b"\x00\x01a", "ends before a string"),
        (b"\x00\x81\x00\x00", "not all ones"),  # Huffman name: '0' + bad padding
        (b"\x00\x84\xff\xff\xff\xff\x00", "EOS"),
    ],
)
def test_decoder_refuses(block, message):
    with pytest.raises(hpack.HpackError, match=message):
        hpack.Decoder().decode(block)


def test_header_list_cap():
    big = [("x-big", "v" * 10000), ("x-big2", "v" * 10000)]
    with pytest.raises(hpack.HeaderListTooLarge, match="over 16384 bytes"):
        hpack.Decoder(max_header_list_size=16384).decode(hpack.encode(big))
