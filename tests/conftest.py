"""Shared fixtures: a scripted V2 server on 127.0.0.1 serving gRPC and HTTP/JSON from one servicer.

Each test queues what the next calls of an RPC should do (answer, fail, throttle, stall, or send
raw HTTP bytes) and reads back what the server received, so client behaviour is checked against
a real server on both transports without mocking either.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import grpc
import pytest
from google.protobuf import message_factory

from clarifai_grpc_client import _json_format, _transcoding
from clarifai_grpc_client._status import http_status_for_code
from clarifai_grpc_client.proto import V2Servicer, add_V2Servicer_to_server
from clarifai_grpc_client.proto.clarifai.api import service_pb2
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

SECRET = "sk-test-9f8e7d6c5b4a-secret"
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]


class Abort(Exception):
    """Raised by a scripted step to fail the call at the transport level."""

    def __init__(self, code: grpc.StatusCode, details: str = "", http_status: int = 503, trailers: tuple[tuple[str, str], ...] = ()):
        super().__init__(details)
        self.code, self.details, self.http_status, self.trailers = code, details, http_status, trailers


@dataclass
class RawHttp:
    """A scripted raw HTTP answer (the gRPC side treats it as UNAVAILABLE)."""

    status: int
    body: bytes
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    request: Any
    metadata: dict[str, str]
    transport: str


Step = Callable[[Any], Any]


def modules_loaded_by(code: str, setup: str = "") -> set[str]:
    """The modules a fresh interpreter loads running ``code`` (after ``setup``, whose own do not count)."""
    probe = (f"{setup}\nimport sys, json\n_before = set(sys.modules)\n{code}\n"
             "print(json.dumps(sorted(set(sys.modules) - _before)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def status_response(method: str, code: int, description: str = "") -> Any:
    cls = message_factory.GetMessageClass(V2.methods_by_name[method].output_type)
    resp = cls()
    resp.status.code = code
    resp.status.description = description or status_code_pb2.StatusCode.Name(code)
    resp.status.req_id = "req-test"
    return resp


def ok(method: str) -> Any:
    return status_response(method, status_code_pb2.SUCCESS, "Ok")


def throttled(method: str) -> Any:
    return status_response(method, status_code_pb2.CONN_THROTTLED, "Making too many requests")


class Script:
    """The behaviour of a scripted server: queued steps per RPC, and every request it received."""

    def __init__(self) -> None:
        self.steps: dict[str, collections.deque[Any]] = collections.defaultdict(collections.deque)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.default: dict[str, Step] = {}

    def queue(self, method: str, *steps: Any) -> None:
        self.steps[method].extend(steps)

    def calls(self, method: str) -> list[Received]:
        return [r for r in self.received if r.method == method]

    def next(self, method: str, request: Any, metadata: dict[str, str], transport: str) -> Any:
        with self.lock:
            self.received.append(Received(method, request, metadata, transport))
            step = self.steps[method].popleft() if self.steps[method] else self.default.get(method)
        if step is None:
            return ok(method)
        if isinstance(step, (Abort, RawHttp)):
            return step
        if isinstance(step, float):
            time.sleep(step)
            return ok(method)
        return step(request) if callable(step) else step


class _Servicer(V2Servicer):
    def __init__(self, script: Script) -> None:
        self._script = script

    def __getattribute__(self, name: str) -> Any:
        if name in V2.methods_by_name:
            script = object.__getattribute__(self, "_script")

            def handler(request: Any, context: grpc.ServicerContext) -> Any:
                md = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
                result = script.next(name, request, md, "grpc")
                if isinstance(result, RawHttp):
                    context.abort(grpc.StatusCode.UNAVAILABLE, f"HTTP {result.status}")
                if isinstance(result, Abort):
                    if result.trailers:
                        context.set_trailing_metadata(result.trailers)
                    context.abort(result.code, result.details)
                return result

            return handler
        return object.__getattribute__(self, name)


def _gateway(script: Script) -> ThreadingHTTPServer:
    router = _transcoding.Router.for_service(V2)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            match = router.match(self.command, parts.path)
            if match is None:
                self._send(404, b'{"status":{"code":11101,"description":"no route"}}')
                return
            name = match.rule.method.name
            request = match.decode(parse_qsl(parts.query, keep_blank_values=True), body, message_factory.GetMessageClass(match.rule.input_type)())
            md = {k.lower(): v for k, v in self.headers.items()}
            result = script.next(name, request, md, "json")
            if isinstance(result, RawHttp):
                self._send(result.status, result.body, result.content_type, result.headers)
            elif isinstance(result, Abort):
                self._send(result.http_status, b"<html>upstream error</html>", "text/html", dict(result.trailers))
            else:
                self._send(http_status_for_code(result.status.code), _json_format.to_json(result, show_if_empty=True, integer_enums=True))

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


@dataclass
class ScriptedServer:
    script: Script
    grpc_target: str
    http_base: str

    def base(self, transport: str) -> str:
        return f"grpc://{self.grpc_target}" if transport == "grpc" else self.http_base


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    script = Script()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    add_V2Servicer_to_server(_Servicer(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = _gateway(script)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield ScriptedServer(script, f"127.0.0.1:{port}", f"http://127.0.0.1:{http.server_address[1]}")
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)
        server.stop(None).wait(5)


@pytest.fixture(params=["grpc", "json"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def body_json(received: Received) -> dict[str, Any]:
    return json.loads(_json_format.to_json(received.request))  # type: ignore[no-any-return]
