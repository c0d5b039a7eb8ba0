"""The pure pieces on their own: image decoding, colours, JSON containment, patch semantics, concept selection."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import colors, imaging, models, patching, search
from clarifai_grpc_client.emulator.auth import KeyRing, authenticate, resolve_user, Principal
from clarifai_grpc_client.emulator.statuses import ApiFailure

from .conftest import SC


def _png(width: int, height: int, rows: list[bytes], filters: list[int], color_type: int = 2, depth: int = 8,
         palette: bytes = b"") -> bytes:
    bpp = {0: 1, 2: 3, 3: 1, 6: 4}[color_type] * depth // 8 or 1

    def pred(ft: int, i: int, row: bytes, prev: bytes) -> int:
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if ft == 1:
            return a
        if ft == 2:
            return b
        if ft == 3:
            return (a + b) // 2
        if ft == 4:
            pp = a + b - c
            pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
            return a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        return 0

    raw, prev = b"", bytes(len(rows[0]))
    for ft, row in zip(filters, rows):
        raw += bytes([ft]) + bytes((row[i] - pred(ft, i, row, prev)) & 255 for i in range(len(row)))
        prev = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))
    if palette:
        body += chunk(b"PLTE", palette)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.data())
def test_png_every_filter_roundtrips(width: int, height: int, data: st.DataObject) -> None:
    rows = [data.draw(st.binary(min_size=width * 3, max_size=width * 3)) for _ in range(height)]
    filters = [data.draw(st.integers(0, 4)) for _ in range(height)]
    assert imaging.decode(_png(width, height, rows, filters)).pixels == b"".join(rows)


def test_png_palette_gray_alpha_and_errors() -> None:
    pal = _png(2, 1, [bytes([0, 1])], [0], color_type=3, palette=bytes([255, 0, 0, 0, 0, 255]))
    assert imaging.decode(pal).pixels == bytes([255, 0, 0, 0, 0, 255])
    gray = _png(2, 1, [bytes([0, 200])], [1], color_type=0)
    assert imaging.decode(gray).pixels == bytes([0, 0, 0, 200, 200, 200])
    rgba = _png(1, 1, [bytes([1, 2, 3, 4])], [0], color_type=6)
    assert imaging.decode(rgba).pixels == bytes([1, 2, 3])
    bits = _png(8, 1, [bytes([0b10100000])], [0], color_type=0, depth=1)
    assert imaging.decode(bits).pixels[:6] == bytes([255, 255, 255, 0, 0, 0])
    with pytest.raises(imaging.ImageError, match="JPEG"):
        imaging.decode(b"\xff\xd8\xff\xe0" + b"\0" * 30)
    with pytest.raises(imaging.ImageError, match="recognise"):
        imaging.decode(b"plain bytes")


def test_bmp_and_pnm() -> None:
    pixels = bytes([0, 0, 255, 0, 255, 0]) + b"\0\0"  # two BGR pixels, row padded to 8 bytes
    bmp = b"BM" + struct.pack("<IHHI", 62, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 2, 1, 1, 24, 0, 8, 0, 0, 0, 0) + pixels
    assert imaging.decode(bmp).pixels == bytes([255, 0, 0, 0, 255, 0])
    assert imaging.decode(b"P6\n# comment\n1 1\n255\n\x01\x02\x03").pixels == b"\x01\x02\x03"
    assert imaging.decode(b"P2 2 1 15 0 15").pixels == bytes([0, 0, 0, 255, 255, 255])
    assert imaging.sniff(b"GIF89a\x05\x00\x07\x00") == imaging.ImageHeader("GIF", 5, 7)


def test_nearest_w3c_names() -> None:
    assert colors.nearest_name(250, 5, 5) == "Red"
    assert colors.nearest_name(0, 0, 130) == "Navy"
    assert colors.nearest_name(255, 255, 255) == "White"
    assert len(colors.W3C_COLORS) == 141  # CSS named colours without the "grey" spellings


@pytest.mark.parametrize(("doc", "pattern", "expected"), [
    ({"a": 1, "b": {"c": [1, 2]}}, {"b": {"c": [2]}}, True),
    ({"a": 1}, {"a": 2}, False),
    ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
    ({"a": True}, {"a": 1}, False),
    ({"a": 1.0}, {"a": 1}, True),
    ({"a": ["x", "y"]}, {"a": "x"}, True),
    ({}, {}, True),
    ({"a": 1}, {"b": None}, False),
])
def test_json_containment(doc: object, pattern: object, expected: bool) -> None:
    assert search.contains(doc, pattern) is expected


def test_patch_dict_semantics() -> None:
    assert patching.merge_dicts({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "d": None}) == {"a": {"b": 3, "c": 2}}
    assert patching.remove_keys({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 0}, "d": "any"}) == {"a": {"c": 2}}
    with pytest.raises(ValueError):
        patching.check_action("upsert")
    assert patching.check_action("") == "merge"


def test_select_concepts() -> None:
    scored = [("a", "A", 0.9), ("b", "B", 0.0), ("c", "C", 0.4), ("d", "D", 0.4)]
    assert models.select(scored, p.OutputConfig()) == [("a", "A", 0.9), ("c", "C", 0.4), ("d", "D", 0.4)]
    assert models.select(scored, p.OutputConfig(max_concepts=2)) == [("a", "A", 0.9), ("c", "C", 0.4)]
    assert models.select(scored, p.OutputConfig(min_value=0.5)) == [("a", "A", 0.9)]
    assert models.select(scored, p.OutputConfig(select_concepts=[p.Concept(name="b"), p.Concept(id="c")])) == \
        [("c", "C", 0.4), ("b", "B", 0.0)]


def test_embeddings_are_unit_and_separate_by_modality() -> None:
    red = models.embed(p.Data(image=p.Image(base64=imaging.encode_png(2, 2, bytes([255, 0, 0] * 4)))))
    txt = models.embed(p.Data(text=p.Text(raw="red red red")))
    url = models.embed(p.Data(image=p.Image(url="https://example.com/red.png")))
    for vec in (red, txt, url):
        assert len(vec) == models.DIMENSIONS and sum(v * v for v in vec) == pytest.approx(1.0, abs=1e-6)
    assert models.cosine(red, txt) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(models.PredictionError):
        models.embed(p.Data())


def test_auth_rules() -> None:
    keys = KeyRing({"k1": "alice", "k2": "bob"})
    assert authenticate([("authorization", "Key k2")], keys) == Principal("bob")
    assert authenticate([("Authorization", b"key k1")], keys) == Principal("alice")
    with pytest.raises(ApiFailure) as err:
        authenticate([], keys)
    assert err.value.code == SC.CONN_INVALID_REQUEST and err.value.http_status == 401
    with pytest.raises(ApiFailure) as err:
        authenticate([("authorization", "Key k3")], keys)
    assert err.value.code == SC.CONN_KEY_NOT_FOUND and "k3" not in str(err.value)
    assert resolve_user(Principal("alice"), "me") == "alice"
    with pytest.raises(ApiFailure):
        resolve_user(Principal("alice"), "bob")
    assert "k1" not in repr(keys)
    with pytest.raises(ValueError):
        KeyRing(["has space"])


def test_legacy_ands_become_filters_and_ranks() -> None:
    q = p.Query(ands=[p.And(input=p.Input(id="x")), p.And(output=p.Output(input=p.Input(data=p.Data(text=p.Text(raw="hi")))))])
    filters, ranks = search.legacy_ands(q)
    assert [f.input.id for f in filters] == ["x"] and ranks[0].annotation.data.text.raw == "hi"
