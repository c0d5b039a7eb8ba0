"""The HTTP/JSON face of the emulator: a small grpc-gateway on ``http.server``.

For each request: the ``google.api.http`` routes (:class:`~.._transcoding.Router`) choose the
RPC, the path, query string and JSON body (snake_case or lowerCamelCase) fill the request
message, and the same :class:`~.dispatch.Dispatcher` the gRPC servicer uses runs it in-process.
The response is written as the service writes JSON (``show_if_empty``) with the HTTP status that
goes with its ``status.code`` (401 for a bad key, 429 when throttled, ...).

Gateway-level errors answer a JSON ``{"status": {...}}`` body too: unknown path 404
(``CONN_DOES_NOT_EXIST``), wrong verb 405 (``CONN_METHOD_NOT_ALLOWED``, with ``Allow``),
undecodable JSON or query parameters 400 (``CONN_BAD_REQUEST_FORMAT``, naming the problem).
A ``dropped`` fault closes the connection without any response.

Connections are HTTP/1.1 keep-alive, one daemon thread each; :meth:`Gateway.stop` closes them
all and joins their threads, so nothing outlives the emulator.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from google.protobuf.message import Message

from .. import _json_format
from .._errors import TranscodingError
from .._status import http_status_for_code
from .._transcoding import Router
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from .dispatch import V2, Dispatcher
from .faults import FaultKind
from .ids import new_req_id
from .statuses import make_status

log = logging.getLogger("clarifai_grpc_client.emulator.gateway")

MAX_BODY = 2**30 - 1
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "clarifai-emulator"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: GatewayServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # request lines only; headers (keys) never
        log.debug("%s " + format, self.client_address[0], *args)

    # --- plumbing --------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                except ValueError:
                    raise _BadRequest(f"malformed chunk size line {line[:40]!r}") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise _BadRequest("request body is larger than 1 GiB")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest(f"Content-Length {length_text!r} is not a number") from None
        if length < 0 or length > MAX_BODY:
            raise _BadRequest(f"Content-Length {length} is out of range")
        return self.rfile.read(length)

    def _send(self, http_status: int, message: Message, req_id: str, extra: dict[str, str] | None = None) -> None:
        body = _json_format.to_json(message, show_if_empty=True, integer_enums=True)
        self.send_response(http_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Clarifai-Request-ID", req_id)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, code: int, details: str, *, description: str | None = None, http_status: int | None = None,
              extra: dict[str, str] | None = None) -> None:
        req_id = new_req_id()
        status = make_status(code, details, description=description, req_id=req_id)
        self._send(http_status or http_status_for_code(code), status_pb2.BaseResponse(status=status), req_id, extra)

    # --- one request -----------------------------------------------------------------

    def _handle(self, verb: str) -> None:
        split = urlsplit(self.path)
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._fail(status_code_pb2.CONN_BAD_REQUEST_FORMAT, str(exc), description=f"Bad request format: {exc}")
            return
        router = self.server.router
        match = router.match(verb, split.path)
        if match is None:
            allowed = router.allowed_verbs(split.path)
            if allowed:
                self._fail(status_code_pb2.CONN_METHOD_NOT_ALLOWED, f"{verb} is not allowed on {split.path}; use {', '.join(allowed)}",
                           http_status=405, extra={"Allow": ", ".join(allowed)})
            else:
                self._fail(status_code_pb2.CONN_DOES_NOT_EXIST, f"no V2 route for {verb} {split.path}", http_status=404)
            return
        rpc = match.rule.method.name
        dispatcher = self.server.dispatcher
        request = dispatcher.request_class(rpc)()
        try:
            query = parse_qsl(split.query, keep_blank_values=True, strict_parsing=False)
            match.decode(query, body, request)
        except TranscodingError as exc:
            self._fail(status_code_pb2.CONN_BAD_REQUEST_FORMAT, str(exc), description=f"Bad request format: {exc}")
            return
        metadata = [(k.lower(), v) for k, v in self.headers.items()]
        outcome = dispatcher.call(rpc, request, metadata)
        if outcome.fault is FaultKind.DROPPED:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(outcome.http_status, outcome.response, outcome.req_id)


class GatewayServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so it can close and join them all."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, router: Router) -> None:
        self.dispatcher = dispatcher
        self.router = router
        self._lock = threading.Lock()
        self._live: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(target=self._serve_connection, args=(request, client_address), daemon=True,
                             name=f"emulator-http-{client_address[1] if isinstance(client_address, tuple) else ''}")
        with self._lock:
            self._live[t] = request
        t.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._live.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Shut every open connection and wait for its thread to end."""
        with self._lock:
            live = dict(self._live)
        for sock in live.values():
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in live:
            t.join(timeout)


class Gateway:
    """The HTTP/JSON server of one emulator: start, stop, port."""

    def __init__(self, dispatcher: Dispatcher, host: str, port: int) -> None:
        self._server = GatewayServer((host, port), dispatcher, Router.for_service(V2))
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="emulator-http-accept", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close every connection, join every thread, free the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()
