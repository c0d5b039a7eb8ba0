"""Requests http.server refuses before any route is known still get a Clarifai JSON status, never an HTML page."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import pytest

from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SC


def exchange(emu: Emulator, raw: bytes) -> tuple[int, dict[str, str], Any]:
    """Send ``raw`` bytes on a fresh connection; the answer's status, headers and decoded JSON body."""
    with socket.create_connection(("127.0.0.1", emu.http_port), timeout=10) as sock:
        sock.sendall(raw)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        assert headers.get("content-type") == "application/json", body[:200]
        return resp.status, headers, json.loads(body)


LONG = "x" * 70_000


@pytest.mark.parametrize(("raw", "http_status", "code"), [
    (b"GARBAGE\r\n\r\n", 400, SC.CONN_BAD_REQUEST_FORMAT),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, SC.CONN_BAD_REQUEST_FORMAT),  # a TLS hello
    (b"GET /v2/inputs HTTP/1.1 extra\r\n\r\n", 400, SC.CONN_BAD_REQUEST_FORMAT),
    (b"GET /v2/inputs HTTP/x.y\r\n\r\n", 400, SC.CONN_BAD_REQUEST_FORMAT),
    (b"GET /v2/inputs HTTP/2.0\r\n\r\n", 505, SC.CONN_BAD_REQUEST_FORMAT),
    (f"GET /v2/inputs?q={LONG} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 414, SC.CONN_INVALID_REQUEST),
    (f"GET /v2/inputs HTTP/1.1\r\nHost: x\r\nX-Big: {LONG}\r\n\r\n".encode(), 431, SC.CONN_INVALID_REQUEST),
    (("GET /v2/inputs HTTP/1.1\r\n" + "".join(f"X-H{i}: v\r\n" for i in range(150)) + "\r\n").encode(), 431,
     SC.CONN_INVALID_REQUEST),
], ids=["garbage", "tls-hello", "four-words", "bad-version", "http2-line", "uri-too-long", "header-too-long", "too-many-headers"])
def test_protocol_errors_are_clarifai_json(emu: Emulator, raw: bytes, http_status: int, code: int) -> None:
    status, headers, body = exchange(emu, raw)
    assert status == http_status
    assert body["status"]["code"] == code and body["status"]["req_id"] and body["status"]["details"]
    assert headers.get("connection") == "close"
    assert "<html" not in json.dumps(body).lower()


def test_bad_content_length_and_chunking_are_clarifai_json(emu: Emulator) -> None:
    status, _, body = exchange(emu, b"POST /v2/inputs HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
    assert status == 400 and body["status"]["code"] == SC.CONN_BAD_REQUEST_FORMAT and "Content-Length" in body["status"]["details"]
    status, _, body = exchange(emu, b"POST /v2/inputs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert status == 400 and "chunk" in body["status"]["details"]


def test_the_server_keeps_serving_after_protocol_errors(emu: Emulator) -> None:
    for raw in (b"GARBAGE\r\n\r\n", f"GET /{LONG} HTTP/1.1\r\n\r\n".encode()):
        exchange(emu, raw)
    status, _, body = exchange(emu, f"GET /v2/inputs HTTP/1.1\r\nHost: x\r\nAuthorization: Key {KEY}\r\n\r\n".encode())
    assert status == 200 and body["status"]["code"] == SC.SUCCESS
