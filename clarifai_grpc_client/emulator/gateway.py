"""The HTTP/JSON face of the emulator: a small grpc-gateway on the standard library's ``http.server``.

For each request: the ``google.api.http`` routes (:class:`~.._transcoding.Router`) choose the
RPC, the path, query string and JSON body (snake_case or lowerCamelCase names, enum names or
numbers) fill the request message, and the same :class:`~.dispatch.Dispatcher` the gRPC
servicer uses runs it in-process. The response is written as the service writes JSON
(``show_if_empty``, enums as numbers) with the HTTP status that goes with its ``status.code``.

Routing: a path with one trailing ``/`` routes as the same path without it
(``/v2/users/u/apps/a/models/`` is ``ListModels``), as on the service.

Every answer, errors included, is a JSON body ``{"status": {...}}`` with a Clarifai code:

- no route for the path: HTTP 404, ``RPC_UNKNOWN_METHOD`` ("No such route", naming verb and
  path). A route that exists but names a missing resource answers the RPC's own
  ``*_DOES_NOT_EXIST`` code, so a typo in a URL and a missing concept are told apart;
- a route that exists for other verbs: HTTP 405, ``CONN_METHOD_NOT_ALLOWED``, with ``Allow``;
- a body that is not JSON, nested more deeply than protobuf reads (100 nested messages), with unknown fields or
  unknown enum names, and bad query parameters: HTTP 400, ``CONN_BAD_REQUEST_FORMAT`` naming
  the problem (the service refuses unknown names too; snake_case and lowerCamelCase names,
  enum numbers and every bool spelling grpc-gateway accepts are read);
- a malformed request line, an unsupported HTTP version: 400 / 505, a request line over
  64 KiB: 414, a header line over 64 KiB or more than 100 headers: 431, all with
  ``CONN_BAD_REQUEST_FORMAT`` or ``CONN_INVALID_REQUEST`` and the connection closed;
- a ``dropped`` fault closes the connection without any response.

Streaming RPCs (see :mod:`.streams`) answer in grpc-gateway's convention: HTTP 200 with
``Transfer-Encoding: chunked`` and a body of newline-delimited JSON objects, one per message,
``{"result": {...}}``; a stream ended by a fault writes a last ``{"error": {"code": 14,
"message": "...", "details": []}}`` (gRPC code, as grpc-gateway does) and ends the body
cleanly, unless the fault is ``dropped``, which closes the connection before the chunked body
is terminated. A stream refused before its first message carries the HTTP status of that
refusal: refused by the stream (fault, bad key, unknown model), in the same body format, one
``{"error": ...}`` or one ``{"result": {"status": ...}}`` object; refused by the gateway (no
route, a body that does not decode), the usual ``{"status": ...}`` body. A bidirectional RPC
with an HTTP binding reads its requests from the body as a sequence of JSON objects
(whitespace or newlines between them).
When the client closes the connection mid-stream, the stream is cancelled at once (a watcher
notices the closed socket even while the stream pauses between messages).

Why ``http.server``: it is the standard library's, needs no dependency for the emulator, and
does all this with a thread per connection. The listen backlog is 4096 (``request_queue_size``)
so bursts of connections queue instead of timing out; 1,000 concurrent keep-alive connections
are served at once. :meth:`Gateway.stop` closes every connection and joins its thread, so
nothing outlives the emulator.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import threading
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from google.protobuf import descriptor, json_format
from google.protobuf.message import DecodeError, Message

from .. import _json_format
from .._errors import TranscodingError
from .._status import http_status_for_code
from .._transcoding import Router, RouteMatch, set_field
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from .dispatch import V2, Dispatcher
from .faults import FaultKind
from .ids import new_req_id
from .statuses import make_status
from .streams import StreamEvent, StreamRunner

log = logging.getLogger("clarifai_grpc_client.emulator.gateway")

MAX_BODY = 2**30 - 1
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle
LISTEN_BACKLOG = 4096
MAX_JSON_DEPTH = 100  # protobuf's own parsers stop at 100 nested messages
_CHECKED_DEPTH = 20  # bodies nested deeper are checked to be readable by protobuf
GRPC_UNAVAILABLE = 14  # google.rpc.Code of a stream ended by a fault
_DRAIN_LIMIT = 4 * 2**20
# Errors http.server itself answers (before a route is known): HTTP status -> Clarifai code.
_PROTOCOL_CODES = {
    HTTPStatus.BAD_REQUEST: status_code_pb2.CONN_BAD_REQUEST_FORMAT,
    HTTPStatus.REQUEST_URI_TOO_LONG: status_code_pb2.CONN_INVALID_REQUEST,
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: status_code_pb2.CONN_INVALID_REQUEST,
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: status_code_pb2.CONN_BAD_REQUEST_FORMAT,
}


class _BadRequest(Exception):
    pass


def route_path(path: str) -> str:
    """The path routes are matched against: one trailing ``/`` does not count."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def decode_request(match: RouteMatch, query: Iterable[tuple[str, str]], body: bytes, message: Message) -> Message:
    """Fill ``message`` from the body (strictly: unknown names refused), query string and path."""
    binding = match.binding
    if binding.body and body.strip():
        target = message if binding.body == "*" else getattr(message, binding.body)
        _fill_from_json(body, target)
    for key, value in query:
        set_field(message, key, value)
    for key, value in match.path_params.items():
        set_field(message, key, value)
    return message


def json_depth(node: Any, limit: int) -> int:
    """How deeply ``node`` nests lists and objects, counting no further than ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _fill_from_json(body: bytes, target: Message) -> None:
    try:
        node = _json_format.loads(body)
    except _json_format.JsonDepthError:
        raise TranscodingError(f"request body is nested too deeply (at most {MAX_JSON_DEPTH} levels are read)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TranscodingError(f"request body is not valid JSON: {exc}") from None
    depth = json_depth(node, MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        raise TranscodingError(f"request body is nested too deeply (at most {MAX_JSON_DEPTH} levels are read)")
    try:
        _json_format.parse_dict(node, target, strict=True)
    except json_format.ParseError as exc:
        raise TranscodingError(f"request body does not fit {target.DESCRIPTOR.full_name}: {exc}") from None
    if depth > _CHECKED_DEPTH:  # Struct values nest about three messages per level: can protobuf still read it?
        try:
            type(target).FromString(target.SerializeToString())
        except (DecodeError, RecursionError):
            raise TranscodingError(f"request body is nested too deeply: its message nests more than protobuf's "
                                   f"{MAX_JSON_DEPTH} levels") from None


def json_objects(body: bytes) -> Iterator[bytes]:
    """The JSON objects of a body holding several, one after another (newline-delimited or not)."""
    text = body.decode("utf-8")
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            _, end = decoder.raw_decode(text, pos)
        except RecursionError:
            raise TranscodingError("a request in the body is nested too deeply") from None
        except ValueError as exc:
            raise TranscodingError(f"request {text[pos:pos + 40]!r}... in the body is not valid JSON: {exc}") from None
        yield text[pos:end].encode()
        pos = end


def stream_line(event: StreamEvent) -> bytes:
    """One message of a streamed answer: ``{"result": ...}`` or ``{"error": ...}``, newline-terminated."""
    if event.message is not None:
        return b'{"result":' + _json_format.to_json(event.message, show_if_empty=True, integer_enums=True) + b"}\n"
    error = {"code": GRPC_UNAVAILABLE, "message": event.details, "details": []}
    return b'{"error":' + json.dumps(error, separators=(",", ":")).encode() + b"}\n"


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

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors http.server answers itself (bad request line, long URI or headers, unknown verb) as JSON."""
        if self.request_version in ("", "HTTP/0.9"):  # the status line and headers must be written
            self.request_version = self.protocol_version
        self.close_connection = True
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:  # a verb no route uses; its body is not read
            self._no_route(self.command, urlsplit(self.path).path, {"Connection": "close"})
            return
        clarifai = _PROTOCOL_CODES.get(HTTPStatus(code), status_code_pb2.CONN_BAD_REQUEST_FORMAT)
        text = message or HTTPStatus(code).phrase
        details = f"{text}: {explain}" if explain else text
        self._fail(clarifai, details, description=f"Bad HTTP request: {HTTPStatus(code).phrase}", http_status=code,
                   extra={"Connection": "close"})
        if code in (HTTPStatus.REQUEST_URI_TOO_LONG, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE):
            self._drain()

    def _drain(self) -> None:
        """Read what is left of an oversized request so closing does not reset the answer away."""
        self.wfile.flush()
        try:
            self.connection.settimeout(0.2)
            total = 0
            while total < _DRAIN_LIMIT:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                total += len(chunk)
        except OSError:
            pass

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
        if self.command != "HEAD":
            self.wfile.write(body)

    def _fail(self, code: int, details: str, *, description: str | None = None, http_status: int | None = None,
              extra: dict[str, str] | None = None) -> None:
        req_id = new_req_id()
        status = make_status(code, details, description=description, req_id=req_id)
        self._send(http_status or http_status_for_code(code), status_pb2.BaseResponse(status=status), req_id, extra)

    def _no_route(self, verb: str, path: str, extra: dict[str, str] | None = None) -> None:
        allowed = self.server.router.allowed_verbs(route_path(path))
        if allowed:
            self._fail(status_code_pb2.CONN_METHOD_NOT_ALLOWED, f"{verb} is not allowed on {path}; use {', '.join(allowed)}",
                       http_status=405, extra={"Allow": ", ".join(allowed), **(extra or {})})
        else:
            self._fail(status_code_pb2.RPC_UNKNOWN_METHOD, f"no V2 route for {verb} {path}", description="No such route",
                       http_status=404, extra=extra)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- one request -----------------------------------------------------------------

    def _handle(self, verb: str) -> None:
        split = urlsplit(self.path)
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._fail(status_code_pb2.CONN_BAD_REQUEST_FORMAT, str(exc), description=f"Bad request format: {exc}")
            return
        match = self.server.router.match(verb, route_path(split.path))
        if match is None:
            self._no_route(verb, split.path)
            return
        method = match.rule.method
        dispatcher = self.server.dispatcher
        metadata = [(k.lower(), v) for k, v in self.headers.items()]
        request_class = dispatcher.request_class(method.name)
        try:
            query = parse_qsl(split.query, keep_blank_values=True, strict_parsing=False)
            if method.client_streaming:
                requests = [decode_request(match, query, obj, request_class()) for obj in json_objects(body)]
                self._stream(method, requests, metadata)
                return
            request = decode_request(match, query, body, request_class())
        except (TranscodingError, UnicodeDecodeError) as exc:
            self._fail(status_code_pb2.CONN_BAD_REQUEST_FORMAT, str(exc), description=f"Bad request format: {exc}")
            return
        if method.server_streaming:
            self._stream(method, request, metadata)
            return
        outcome = dispatcher.call(method.name, request, metadata)
        if outcome.fault is FaultKind.DROPPED:
            self._drop()
            return
        self._send(outcome.http_status, outcome.response, outcome.req_id)

    # --- streams ---------------------------------------------------------------------

    def _stream(self, method: descriptor.MethodDescriptor, request: Message | list[Message],
                metadata: list[tuple[str, str]]) -> None:
        cancelled = threading.Event()
        wake_r, wake_w = os.pipe()
        watcher = threading.Thread(target=self._watch_peer, args=(cancelled, wake_r), daemon=True,
                                   name=f"emulator-http-watch-{method.name}")
        events = self.server.streams.run(method, request, metadata, cancelled)
        try:
            first = next(events, None)
            if first is None:  # cancelled before anything was produced
                self.close_connection = True
                return
            req_id = self._first_req_id(first)
            self.send_response(first.http_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Clarifai-Request-ID", req_id)
            self.end_headers()
            watcher.start()
            event: StreamEvent | None = first
            while event is not None:
                if event.message is None:
                    events.close()  # the outcome is logged before the client can see the end
                    if event.end is FaultKind.DROPPED:
                        self._drop()
                        return
                line = stream_line(event)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                if event.message is None:
                    break
                event = next(events, None)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client went away: stop the stream
            cancelled.set()
            self.close_connection = True
        finally:
            os.write(wake_w, b"x")
            events.close()  # ends the stream now (counted as cancelled unless it was over)
            if watcher.is_alive():
                watcher.join()
            os.close(wake_r)
            os.close(wake_w)

    @staticmethod
    def _first_req_id(event: StreamEvent) -> str:
        if event.message is not None:
            return str(getattr(event.message, "status").req_id)
        return new_req_id()

    def _watch_peer(self, cancelled: threading.Event, wake: int) -> None:
        """Set ``cancelled`` as soon as the client closes its end of the connection (until ``wake`` is written)."""
        sock = self.connection
        poller = select.poll()  # not select(): descriptors above 1023 are usual with many connections
        poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        poller.register(wake, select.POLLIN)
        try:
            ready = {fd for fd, _ in poller.poll()}
            if sock.fileno() in ready and wake not in ready and sock.recv(1, socket.MSG_PEEK) == b"":
                cancelled.set()
            # otherwise: the stream is over, or data (a next request) came: nothing more to watch for
        except OSError:
            cancelled.set()


class GatewayServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections so it can close and join them all."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, router: Router) -> None:
        self.dispatcher = dispatcher
        self.router = router
        self.streams = StreamRunner(dispatcher)
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

    def __init__(self, dispatcher: Dispatcher, host: str, port: int, service: descriptor.ServiceDescriptor = V2) -> None:
        self._server = GatewayServer((host, port), dispatcher, Router.for_service(service))
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
