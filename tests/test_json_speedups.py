"""``orjson``, when installed, writes exactly the documents ``json`` does; what it refuses, ``json`` writes.
Reading stays with ``json`` (orjson reads integers over 64 bits as floats)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clarifai_grpc_client import _json_format
from clarifai_grpc_client.proto import Data, Image, Input, PostInputsRequest

DOCUMENTS: list[Any] = [
    {"inputs": [{"data": {"image": {"base64": "QUJD" * 40_000}}}]},
    {"text": "caf\u00e9 \u2603 \U0001F600", "n": 2**63 - 1, "f": 0.1, "neg": -1e-300, "list": [True, False, None]},
    {"huge": 2**70, "k": [1, 2]},  # over 64 bits: orjson declines, json writes it
]


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_dumps_round_trips(doc: Any) -> None:
    assert json.loads(_json_format.dumps(doc)) == doc


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"n": 123456789012345678901234567890}', b'{"s": "\\u00e9"}',
                                  b'[1.5e300, -0.0, 1e-7]'])
def test_loads_reads_what_json_reads(text: bytes) -> None:
    got, want = _json_format.loads(text), json.loads(text)
    assert json.dumps(got) == json.dumps(want)


def test_deep_document_still_raises_the_depth_error() -> None:
    with pytest.raises(_json_format.JsonDepthError):
        _json_format.loads(b"[" * 200_000 + b"]" * 200_000)


def test_message_round_trip_with_fast_library_if_present() -> None:
    msg = PostInputsRequest(inputs=[Input(id="a", data=Data(image=Image(base64=b"\x00\xff" * 5000)))])
    back = _json_format.parse_json(_json_format.to_json(msg), PostInputsRequest())
    assert back == msg


def test_orjson_is_used_when_installed() -> None:
    orjson = pytest.importorskip("orjson", reason="orjson is optional (the speed extra)")
    assert _json_format._orjson() is orjson
    doc = DOCUMENTS[1]
    assert _json_format.dumps(doc) == orjson.dumps(doc)


@pytest.mark.parametrize("text", [
    "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2024-02-29T12:00:00.5Z",
    "2026-12-02T18:20:31.123456Z", "2023-02-29T12:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z",
    "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00+01:00", "2024-1-01T00:00:00Z",
])
def test_timestamps_read_as_the_reference_parser_reads_them(text: str) -> None:
    from google.protobuf import json_format

    try:
        want: Any = json_format.ParseDict({"created_at": text}, Input()).created_at
    except json_format.ParseError:
        want = "refused"
    try:
        got: Any = _json_format.parse_dict({"created_at": text}, Input()).created_at
    except json_format.ParseError:
        got = "refused"
    assert got == want
