"""The HTTP/JSON stream format: reassembly across reads, pure and over a real loopback socket.

The server here writes the body in chosen pieces (flushing and pausing between them), so the
client really sees a message split across reads, many messages in one read, an object written
over several lines, a stream cut inside an object, and an ``{"error": ...}`` ending.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator, Sequence

import pytest

from clarifai_grpc_client import AsyncClient, Client, RetryPolicy, ServiceUnavailable, StreamInterrupted
from clarifai_grpc_client._transports._json_wire import JsonSequence
from clarifai_grpc_client.proto import Data, Input, PostModelOutputsRequest, Text, UserAppIDSet

from .conftest import LoopbackHttpServer, read_request

ONE_TRY = RetryPolicy(max_attempts=1, wait_for_connection=False)


def result(i: int) -> bytes:
    msg = {"status": {"code": 10000}, "outputs": [{"data": {"text": {"raw": f"chunk-{i} {{\n}}"}}}]}
    return json.dumps({"result": msg}, separators=(",", ":")).encode()


def test_sequence_reassembles_objects_whatever_the_read_boundaries() -> None:
    body = b"".join(result(i) + b"\n" for i in range(5))
    for size in (1, 2, 3, 7, 50, len(body)):
        seq = JsonSequence()
        got = []
        for start in range(0, len(body), size):
            got += seq.feed(body[start:start + size])
        got += seq.finish()
        assert [o["result"]["outputs"][0]["data"]["text"]["raw"] for o in got] == [f"chunk-{i} {{\n}}" for i in range(5)]


def test_sequence_handles_blank_lines_a_missing_final_newline_and_pretty_printed_objects() -> None:
    seq = JsonSequence()
    pretty = json.dumps({"result": {"outputs": []}}, indent=2).encode()
    assert seq.feed(b"\n\n" + pretty + b"\n" + result(1)) == [{"result": {"outputs": []}}]
    assert len(seq.finish()) == 1


def test_sequence_refuses_a_body_that_ends_inside_an_object() -> None:
    seq = JsonSequence()
    assert seq.feed(result(0)[:20]) == []
    with pytest.raises(ValueError, match="ended inside a JSON object"):
        seq.finish()


class PieceServer(LoopbackHttpServer):
    """Answers every HTTP request with a 200 whose body is written in the given pieces."""

    def __init__(self, pieces: Sequence[bytes], pause: float = 0.05) -> None:
        self.pieces, self.pause = pieces, pause
        self.requests: list[bytes] = []
        super().__init__()

    def answer(self, conn: socket.socket) -> None:
        line = read_request(conn)
        if line is None:
            return
        self.requests.append(line)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n")
        try:
            for piece in self.pieces:
                if piece:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                time.sleep(self.pause)
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass


@pytest.fixture
def pieces(request: pytest.FixtureRequest) -> Iterator[PieceServer]:
    server = PieceServer(request.param)
    yield server
    server.close()


def request() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(user_app_id=UserAppIDSet(user_id="u", app_id="a"), model_id="m",
                                   inputs=[Input(data=Data(text=Text(raw="hi")))])


SPLIT = [result(0)[:10], result(0)[10:25], result(0)[25:] + b"\n" + result(1)[:5], result(1)[5:] + b"\n"]
MANY = [b"".join(result(i) + b"\n" for i in range(6))]
PRETTY_AND_NO_FINAL_NEWLINE = [json.dumps({"result": {"status": {"code": 10000}, "outputs": [{"data": {"text": {"raw": "p"}}}]}}, indent=1).encode()
                               + b"\n", result(7)]


@pytest.mark.parametrize(
    "pieces, expected",
    [(SPLIT, ["chunk-0 {\n}", "chunk-1 {\n}"]), (MANY, [f"chunk-{i} {{\n}}" for i in range(6)]),
     (PRETTY_AND_NO_FINAL_NEWLINE, ["p", "chunk-7 {\n}"])],
    indirect=["pieces"],
)
def test_client_reads_a_stream_whatever_the_chunk_boundaries(pieces: PieceServer, expected: list[str]) -> None:
    with Client("json", pieces.base, environ={}, retry=ONE_TRY) as client:
        got = [m.outputs[0].data.text.raw for m in client.GenerateModelOutputs(request())]
    assert got == expected
    assert pieces.requests == [b"POST /v2/users/u/apps/a/models/m/outputs/generate HTTP/1.1"]


@pytest.mark.parametrize("pieces, expected", [(SPLIT, ["chunk-0 {\n}", "chunk-1 {\n}"]),
                                              (MANY, [f"chunk-{i} {{\n}}" for i in range(6)])], indirect=["pieces"])
async def test_async_client_reads_a_stream_whatever_the_chunk_boundaries(pieces: PieceServer, expected: list[str]) -> None:
    async with AsyncClient("json", pieces.base, environ={}, retry=ONE_TRY) as client:
        got = [m.outputs[0].data.text.raw async for m in client.GenerateModelOutputs(request())]
    assert got == expected


ERROR_END = [result(0) + b"\n", b'{"error":{"code":14,"message":"backend gone","details":[]}}\n']
CUT_INSIDE = [result(0) + b"\n" + result(1)[:30]]


@pytest.mark.parametrize("pieces, text", [(ERROR_END, "backend gone"), (CUT_INSIDE, "ended inside a JSON object")],
                         indirect=["pieces"])
def test_an_error_object_or_a_cut_inside_an_object_is_a_typed_error_with_the_count(pieces: PieceServer, text: str) -> None:
    got = []
    with Client("json", pieces.base, environ={}, retry=ONE_TRY) as client:
        with pytest.raises(ServiceUnavailable, match=text) as info:
            for m in client.GenerateModelOutputs(request()):
                got.append(m)
    assert len(got) == 1 and isinstance(info.value, StreamInterrupted) and info.value.delivered == 1
