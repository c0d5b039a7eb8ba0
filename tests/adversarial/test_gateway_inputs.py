"""Hostile HTTP to the emulator's gateway: every answer is an HTTP error with a Clarifai JSON status
that names what was wrong; never a closed connection, an HTML page, a 500 or a silent 200."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import pytest

from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY

INPUTS = "/v2/users/me/apps/main/inputs"
AUTH = {"Authorization": f"Key {KEY}", "Content-Type": "application/json"}
OK_INPUT = '{"id": "gw-a", "data": {"text": {"raw": "x"}}}'

CASES: dict[str, tuple[str, str, Any, dict[str, str], int, str]] = {
    # name: (method, path, body, headers, HTTP status, fragment of the status description or details)
    "malformed JSON": ("POST", INPUTS, "{not json", AUTH, 400, "not valid JSON"),
    "a JSON array body": ("POST", INPUTS, "[1, 2]", AUTH, 400, "expected a JSON object"),
    "a JSON string body": ("POST", INPUTS, '"hi"', AUTH, 400, "expected a JSON object"),
    "a JSON number body": ("POST", INPUTS, "42", AUTH, 400, "expected a JSON object"),
    "a JSON null body": ("POST", INPUTS, "null", AUTH, 400, "expected a JSON object"),
    "an unknown field": ("POST", INPUTS, '{"inputs": [], "nope": 1}', AUTH, 400, "nope"),
    "an unknown nested field": ("POST", INPUTS, '{"inputs": [{"id": "a", "data": {"text": {"raw": "x", "zzz": 1}}}]}',
                                AUTH, 400, "zzz"),
    "an unknown enum name": ("POST", INPUTS, '{"inputs": [' + OK_INPUT + '], "input_id_conflict_resolution": "NOPE"}',
                             AUTH, 400, "NOPE"),
    "an enum number out of range": ("POST", INPUTS, '{"inputs": [' + OK_INPUT + '], "input_id_conflict_resolution": 99999999999}',
                                    AUTH, 400, "input_id_conflict_resolution"),
    "a string where a list goes": ("POST", INPUTS, '{"inputs": "notalist"}', AUTH, 400, "inputs"),
    "a number where a string goes": ("POST", INPUTS, '{"inputs": [{"id": 5}]}', AUTH, 400, "id"),
    "bytes that are not base64": ("POST", INPUTS, '{"inputs": [{"id": "a", "data": {"image": {"base64": "!!!"}}}]}',
                                  AUTH, 400, "base64"),
    "objects nested 6,000 deep": ("POST", INPUTS, '{"inputs": [{"data": {"metadata": ' + '{"a":' * 6000 + "1" + "}" * 6000 + "}}]}",
                                  AUTH, 400, "nested too deeply"),
    "arrays nested 100,000 deep": ("POST", INPUTS, "[" * 100_000 + "]" * 100_000, AUTH, 400, "nested too deeply"),
    "a body that is not UTF-8": ("POST", INPUTS, b'{"inputs": [{"id": "a", "data": {"text": {"raw": "\xe9"}}}]}', AUTH, 400,
                                 "utf-8"),
    "trailing data after the JSON": ("POST", INPUTS, '{"inputs": []} xyz', AUTH, 400, "Extra data"),
    "a query value that is not a number": ("GET", INPUTS + "?per_page=abc", None, AUTH, 400, "per_page"),
    "a NaN query value": ("GET", INPUTS + "?per_page=NaN", None, AUTH, 400, "per_page"),
    "a negative page": ("GET", INPUTS + "?page=-1", None, AUTH, 400, "page"),
    "a page number over 64 bits": ("GET", INPUTS + "?per_page=99999999999999999999", None, AUTH, 400, "per_page"),
    "an unknown query parameter": ("GET", INPUTS + "?nope=1", None, AUTH, 400, "nope"),
    "an invalid input id": ("POST", INPUTS, '{"inputs": [{"id": "bad id", "data": {"text": {"raw": "x"}}}]}', AUTH, 400,
                            "bad id"),
    "an input without content": ("POST", INPUTS, '{"inputs": [{"id": "hollow"}]}', AUTH, 400, "hollow"),
    "no authorization": ("GET", INPUTS, None, {}, 401, "authorization"),
    "a Bearer token": ("GET", INPUTS, None, {"Authorization": f"Bearer {KEY}"}, 401, "authorization"),
    "an empty key": ("GET", INPUTS, None, {"Authorization": "Key "}, 401, "authorization"),
    "an unknown key": ("GET", INPUTS, None, {"Authorization": "Key not-a-key-999"}, 401, "key"),
    "a verb the route does not take": ("PUT", "/v2/users/me/apps/main/inputs/searches", "{}", AUTH, 405, "PUT"),
    "no such route": ("GET", "/v2/nothing/here", None, AUTH, 404, "/v2/nothing/here"),
    "a URI of 70,000 characters": ("GET", INPUTS + "?x=" + "a" * 70_000, None, AUTH, 414, "Too Long"),
    "a missing input": ("GET", INPUTS + "/never-stored", None, AUTH, 404, "never-stored"),
    "a missing app": ("GET", "/v2/users/me/apps/no-such-app/inputs", None, AUTH, 404, "no-such-app"),
    "a missing model": ("POST", "/v2/users/me/apps/main/models/no-such-model/outputs",
                        '{"inputs": [{"data": {"text": {"raw": "x"}}}]}', AUTH, 404, "no-such-model"),
}


def _status(emu: Emulator, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    host, port = emu.http_base.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers)
        resp = conn.getresponse()
        assert resp.getheader("Content-Type", "").startswith("application/json")
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.mark.parametrize("case", list(CASES))
def test_bad_http_is_answered_with_a_clarifai_status(emu: Emulator, case: str) -> None:
    method, path, body, headers, expected, fragment = CASES[case]
    status, answer = _status(emu, method, path, body, headers)
    assert status == expected, (status, answer)
    st = answer["status"]
    assert st["code"] not in (0, 10000) and st["req_id"]
    text = f"{st.get('description', '')} {st.get('details', '')}"
    assert fragment.lower() in text.lower(), text


RAW: dict[str, tuple[bytes, int]] = {
    "a header of 70,000 bytes": (b"GET " + INPUTS.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "a garbage request line": (b"GARBAGE\r\n\r\n", 400),
    "a Content-Length over the limit": (b"POST " + INPUTS.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}", 400),
    "a negative Content-Length": (b"POST " + INPUTS.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 400),
    "a Content-Length that is not a number": (b"POST " + INPUTS.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400),
}


@pytest.mark.parametrize("case", list(RAW))
def test_malformed_http_is_answered_with_a_clarifai_status(emu: Emulator, case: str) -> None:
    raw, expected = RAW[case]
    host, port = emu.http_base.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(expected).encode(), head
    assert b"application/json" in head
    status = json.loads(body)["status"]
    assert status["code"] not in (0, 10000) and status["description"]
