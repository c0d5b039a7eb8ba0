"""Deeply nested JSON is a typed error, never a RecursionError: in the JSON reader, and in replies to the JSON client.

The replies come from a loopback HTTP server in the test that answers every request with one
fixed body: nested 5,000 to 100,000 levels deep, or nested within JSON's reach but deeper than
protobuf reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf import json_format

from clarifai_grpc_client import ApiError, AsyncClient, Client, InvalidResponse, RetryPolicy
from clarifai_grpc_client import _json_format
from clarifai_grpc_client import proto as p

ONCE = RetryPolicy(max_attempts=1)


def deep_array(depth: int) -> bytes:
    return b'{"status": {"code": 10000}, "inputs": ' + b"[" * depth + b"]" * depth + b"}"


def deep_object(depth: int) -> bytes:
    return b'{"status": {"code": 10000}, "x": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


def deep_struct(depth: int) -> bytes:
    return (b'{"status": {"code": 10000}, "inputs": [{"id": "i", "data": {"metadata": '
            + b'{"k": ' * depth + b"1" + b"}" * depth + b"}}]}")


@pytest.mark.parametrize("doc", [deep_array(5_000), deep_object(20_000), deep_array(100_000)], ids=["5k", "20k", "100k"])
def test_the_reader_raises_a_value_error_for_deep_documents(doc: bytes) -> None:
    with pytest.raises(_json_format.JsonDepthError):
        _json_format.loads(doc)
    with pytest.raises(ValueError):
        _json_format.parse_json(doc, p.MultiInputResponse())


def test_a_message_nested_deeper_than_protobuf_reads_is_a_parse_error() -> None:
    with pytest.raises(json_format.ParseError):
        _json_format.parse_json(deep_struct(600), p.MultiInputResponse())


def test_strict_reading_names_unknown_fields_and_enum_names() -> None:
    with pytest.raises(json_format.ParseError, match="colour"):
        _json_format.parse_dict({"inputs": [{"data": {"colour": 1}}]}, p.PostInputsRequest(), strict=True)
    with pytest.raises(json_format.ParseError, match="NOPE"):
        _json_format.parse_dict({"input_id_conflict_resolution": "NOPE"}, p.PostInputsRequest(), strict=True)
    lenient = _json_format.parse_dict({"inputs": [{"data": {"colour": 1}}], "x": "NOPE"}, p.PostInputsRequest())
    assert len(lenient.inputs) == 1  # replies stay lenient: a newer server cannot break an older client


BODIES = {"5k-arrays": deep_array(5_000), "100k-arrays": deep_array(100_000), "20k-objects": deep_object(20_000),
          "struct-600": deep_struct(600)}


@dataclass
class DeepServer:
    url: str
    kind: str
    hits: list[str] = field(default_factory=list)

    @property
    def error(self) -> type[ApiError]:
        """JSON too deep to read is an InvalidResponse; readable JSON that protobuf cannot hold does not fit the message."""
        return ApiError if self.kind == "struct-600" else InvalidResponse


@pytest.fixture(params=list(BODIES))
def deep_server(request: pytest.FixtureRequest) -> Iterator[DeepServer]:
    body = BODIES[request.param]
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield DeepServer(f"http://127.0.0.1:{server.server_address[1]}", request.param, hits)
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_deep_reply_is_a_typed_error(deep_server: DeepServer) -> None:
    client = Client("json", deep_server.url, pat="k", app_id="main", environ={}, retry=ONCE)  # type: ignore[call-arg]
    try:
        with pytest.raises(deep_server.error) as err:
            client.ListInputs(p.ListInputsRequest())
        assert "ListInputs" in str(err.value) and "deep" in str(err.value)
    finally:
        client.close()


async def test_a_deep_reply_is_a_typed_error_async(deep_server: DeepServer) -> None:
    client = AsyncClient("json", deep_server.url, pat="k", app_id="main", environ={}, retry=ONCE)  # type: ignore[call-arg]
    try:
        with pytest.raises(deep_server.error):
            await client.ListInputs(p.ListInputsRequest())
    finally:
        await client.close()


def test_json_too_deep_to_read_is_not_retried(deep_server: DeepServer) -> None:
    """The same reply would come back: one attempt, though the policy allows four."""
    client = Client("json", deep_server.url, pat="k", app_id="main", environ={},  # type: ignore[call-arg]
                    retry=RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.002))
    try:
        with pytest.raises(deep_server.error):
            client.ListInputs(p.ListInputsRequest())
    finally:
        client.close()
    assert len(deep_server.hits) == 1 if deep_server.error is InvalidResponse else len(deep_server.hits) >= 1
