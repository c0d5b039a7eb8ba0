"""The sync HTTP/JSON transport on urllib3, against a loopback server that holds its stream back.

Each message reaches the caller when the server has sent it, whether the body is chunked on a
kept-alive connection or ends when the server closes (HTTP/1.0); the idle timeout bounds every
read in both; a stream dropped midway gives its connection back to a pool of one.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from clarifai_grpc_client import Client, DeadlineExceeded, RetryPolicy
from clarifai_grpc_client._config import build_config
from clarifai_grpc_client._json_channel import JsonChannel
from clarifai_grpc_client.proto import PostModelOutputsRequest, UserAppIDSet, V2Stub

from .conftest import LoopbackHttpServer, read_request

ONE_TRY = RetryPolicy(max_attempts=1, wait_for_connection=False)
MESSAGE = json.dumps({"result": {"status": {"code": 10000}}}).encode() + b"\n"


class HeldServer(LoopbackHttpServer):
    """Streams two messages per request; the second only once ``go`` is set (or after ``hold`` seconds)."""

    def __init__(self, framing: str, hold: float = 10.0) -> None:
        self.framing, self.hold = framing, hold
        self.go = threading.Event()
        self.released: list[bool] = []
        super().__init__()

    def answer(self, conn: socket.socket) -> None:
        while read_request(conn) is not None:
            chunked = self.framing == "chunked"
            head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n" if chunked else b"HTTP/1.0 200 OK\r\n"
            try:
                conn.sendall(head + b"content-type: application/json\r\n\r\n" + self._piece(MESSAGE))
                self.released.append(self.go.wait(self.hold))
                conn.sendall(self._piece(MESSAGE) + (b"0\r\n\r\n" if chunked else b""))
            except OSError:
                return
            if not chunked:
                return

    def _piece(self, data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if self.framing == "chunked" else data

    def close(self) -> None:
        self.go.set()
        super().close()


@pytest.fixture(params=["chunked", "until-close"])
def server(request: pytest.FixtureRequest) -> Iterator[HeldServer]:
    held = HeldServer(request.param)
    yield held
    held.close()


def request() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(user_app_id=UserAppIDSet(user_id="u", app_id="a"), model_id="m")


def test_each_message_arrives_as_soon_as_it_is_sent(server: HeldServer) -> None:
    with Client("json", server.base, environ={}, retry=ONE_TRY) as client:
        got = 0
        for _ in client.GenerateModelOutputs(request()):
            got += 1
            server.go.set()  # the server sends the second message only now
    assert got == 2 and server.released == [True]


def test_the_idle_timeout_bounds_every_read(server: HeldServer) -> None:
    started = time.monotonic()
    with Client("json", server.base, environ={}, retry=ONE_TRY, idle_timeout=0.3) as client:
        with pytest.raises(DeadlineExceeded, match="idle timeout"):
            for _ in client.GenerateModelOutputs(request()):
                pass
    assert time.monotonic() - started < 5


def test_a_dropped_stream_gives_its_connection_back(server: HeldServer) -> None:
    config = dataclasses.replace(build_config("json", server.base, environ={}, retry=ONE_TRY), http_max_connections=1)
    with JsonChannel(config) as channel:
        stub = V2Stub(channel)
        for _ in range(3):  # with the one connection kept by a dropped stream, the next call would wait
            stream = stub.GenerateModelOutputs(request(), timeout=5)
            next(stream)
            stream.cancel()
        assert channel.pool.pool is not None and channel.pool.pool.qsize() == 1
