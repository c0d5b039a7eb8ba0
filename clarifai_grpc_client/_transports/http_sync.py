"""The sync HTTP/JSON transport: one exchange per call on the channel's ``urllib3`` connection pool.

The twin of :mod:`.http_async`, on urllib3 because a raw urllib3 call takes about 0.55 of the
time of a raw ``httpx.Client`` one (``benchmarks/README.md``, speed table). urllib3 never
retries nor follows a redirect here (the policy decides), and its pool drops a connection that
the server closed while it was idle before sending on it. Server streams are read as the
newline-delimited JSON sequence of :mod:`._json_wire`, each chunk as it arrives, each read
bounded by the idle timeout and by what is left of the call's deadline.
"""

from __future__ import annotations

import socket
import ssl
import time
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

import grpc
from google.protobuf.message import Message
from urllib3 import BaseHTTPResponse, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    InsecureRequestWarning,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as HttpTimeout
from urllib3.response import HTTPResponse

from .._calls import Method
from .._config import Target
from .._errors import ConfigurationError
from ._base import IdleTimeout, Md, StreamOpener, UnaryExchange
from ._json_wire import (
    JsonSequence,
    Prepared,
    answer,
    cut_stream,
    deadline_passed,
    failed_connection,
    no_json_form,
    read_timeout,
    rule_of,
    stream_item,
    stream_refusal,
    tls_reason,
)

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection


_NO_TIME = 1e-6  # urllib3 refuses a zero timeout: an attempt without time left still tries once, at once


class _Connection(HTTPConnection):
    """A connection that keeps the socket its last response is read from.

    http.client hands that socket to the response alone when the server will close the
    connection after it (HTTP/1.0, ``Connection: close``); a stream sets each read's timeout on it.
    """

    reading: socket.socket | None = None

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3 does
        self.reading = self.sock
        return super().getresponse()


class _TlsConnection(_Connection, HTTPSConnection):
    """The TLS twin of :class:`_Connection`."""


class _Pool(HTTPConnectionPool):
    """A plaintext pool of :class:`_Connection`."""

    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    """A TLS pool of :class:`_TlsConnection`."""

    ConnectionCls = _TlsConnection


class _UnverifiedTlsPool(_TlsPool):
    """A pool that does not verify the server: it warns once, when it is made, not on every request.

    urllib3 warns on each request to an unverified host (its filter shows every one); the
    warning is the same ``InsecureRequestWarning``, so the caller's filters still apply to it.
    """

    def __init__(self, host: str, port: int, **options: Any) -> None:
        super().__init__(host, port, cert_reqs="CERT_NONE", **options)
        warnings.warn(f"HTTPS requests to {host} are not verified (verify_tls=False): anyone on the path can read "
                      "and change them, credentials included", InsecureRequestWarning, stacklevel=2)

    def _validate_conn(self, conn: BaseHTTPConnection) -> None:
        if conn.is_closed:  # what urllib3 does before each request, less the warning
            conn.connect()


def connection_pool(target: Target, *, verify: bool | ssl.SSLContext, max_connections: int) -> HTTPConnectionPool:
    """The channel's one pool: at most ``max_connections``, a call waits for a free one.

    ``verify`` is True (the system's CAs), False (no verification) or a context that trusts the
    configured CA alone. No proxy is read from the environment.
    """
    options: dict[str, Any] = {"maxsize": max_connections, "block": True, "retries": False, "timeout": None}
    if not target.secure:
        return _Pool(target.host, target.port, **options)
    if isinstance(verify, ssl.SSLContext):
        return _TlsPool(target.host, target.port, ssl_context=verify, **options)
    if verify:
        return _TlsPool(target.host, target.port, cert_reqs="CERT_REQUIRED", **options)
    return _UnverifiedTlsPool(target.host, target.port, **options)


def connection_failure(method: str, where: str, exc: HTTPError) -> Exception:
    """A urllib3 exception raised before or while reading an answer, typed.

    ``NewConnectionError`` (refused, name not resolved) is a ``ConnectTimeoutError`` in urllib3:
    all of them say the request never left, none that the call's time ran out (the policy says
    so when its deadline has passed). Nor did it leave when the TLS handshake failed.
    """
    if isinstance(exc, ClosedPoolError):
        return ConfigurationError("this HTTP/JSON channel is closed")
    connect = isinstance(exc, ConnectTimeoutError)
    return failed_connection(method, where, type(exc).__name__,
                             timed_out=isinstance(exc, (HttpTimeout, EmptyPoolError)) and not connect,
                             not_sent=connect or isinstance(exc, SSLError), tls=tls_reason(exc))


def send(transport: HttpTransport, prepared: Prepared, timeout: float | None, stream: bool) -> BaseHTTPResponse:
    """One request on the pool; ``timeout`` bounds the wait for a connection, the connect and each read."""
    if timeout is not None and timeout < _NO_TIME:
        timeout = _NO_TIME
    return transport.pool.urlopen(
        prepared.verb, transport.prefix + prepared.url, body=prepared.body,
        headers=transport.headers | prepared.headers, retries=False, redirect=False, timeout=timeout,
        pool_timeout=cast("int | None", timeout),  # typed int, used as a float (queue.Queue.get)
        preload_content=not stream)


class CompletedCall:
    """The ``call`` half of ``with_call`` for a finished JSON call."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK

    def details(self) -> str:
        return ""

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()


class HttpStream:
    """A server-streaming call over HTTP: nothing is sent until the first ``next``."""

    __slots__ = ("_gen", "_idle")

    def __init__(self, transport: HttpTransport, method: Method[Any, Any], request: Message, timeout: float | None,
                 metadata: Md) -> None:
        self._idle: float | None = None
        self._gen = self._run(transport, method, request, timeout, metadata)

    def next(self, idle: float | None) -> Message:
        self._idle = idle
        return next(self._gen)

    def cancel(self) -> None:
        self._gen.close()

    def _run(self, transport: HttpTransport, method: Method[Any, Any], request: Message, timeout: float | None,
             metadata: Md) -> Generator[Message, None, None]:
        name = method.name
        deadline = None if timeout is None else time.monotonic() + timeout
        prepared = Prepared(name, rule_of(method), request, metadata, transport.limit)
        where = f"{prepared.verb} {prepared.path}"
        read_timeout(self._idle, deadline, name)  # refuses a deadline already passed
        left = None if deadline is None else deadline - time.monotonic()
        try:
            resp = send(transport, prepared, self._idle if left is None else left, stream=True)
        except HTTPError as exc:
            raise connection_failure(name, where, exc) from None
        finished = False
        try:
            cls = method.response_type
            if resp.status != 200:
                try:
                    body = resp.read()
                except HTTPError as exc:
                    raise connection_failure(name, where, exc) from None
                finished = True
                yield stream_refusal(name, cls, resp.status, resp.headers, body, transport.limit)
                return
            conn = resp.connection
            sock = conn.reading if isinstance(conn, _Connection) else None
            seq = JsonSequence()
            while True:
                seconds, by_deadline = read_timeout(self._idle, deadline, name)
                if sock is not None:
                    sock.settimeout(seconds)
                try:
                    chunk = resp.read1()  # what has arrived: one chunk, never a fixed count of bytes
                except ReadTimeoutError:
                    if by_deadline:
                        raise deadline_passed(name) from None
                    raise IdleTimeout(self._idle) from None
                except HTTPError as exc:
                    raise cut_stream(name, f"{where}: connection lost ({type(exc).__name__})") from None
                if not chunk:
                    break
                for node in seq.feed(chunk):
                    yield stream_item(name, cls, node)
            finished = True
            try:
                tail = seq.finish()
            except ValueError as exc:
                raise cut_stream(name, str(exc)) from None
            for node in tail:
                yield stream_item(name, cls, node)
        finally:
            if not finished:
                resp.close()  # dropped or broken midway: the connection cannot carry another call
            resp.release_conn()  # its place in the pool is free again


class HttpTransport:
    """Exchanges over HTTP/JSON on the channel's urllib3 pool.

    ``prefix`` is the base URL's path (put before each transcoded path), ``headers`` go with
    every request (urllib3 sends a pool's own headers only with requests that have none).
    """

    name = "json"

    def __init__(self, pool: HTTPConnectionPool, prefix: str, headers: dict[str, str], limit: int) -> None:
        self.pool = pool
        self.prefix = prefix
        self.headers = headers
        self.limit = limit

    def unary(self, method: Method[Any, Any]) -> UnaryExchange:
        rule = rule_of(method)
        name, cls, limit = method.name, method.response_type, self.limit

        def exchange(request: Message, timeout: float | None = None, metadata: Md = (), **_: Any) -> Message:
            prepared = Prepared(name, rule, request, metadata, limit)
            try:
                r = send(self, prepared, timeout, stream=False)
            except HTTPError as exc:
                raise connection_failure(name, f"{prepared.verb} {prepared.path}", exc) from None
            return answer(name, cls, r.status, r.headers, r.data, limit)

        return exchange

    def unary_with_call(self, exchange: UnaryExchange) -> UnaryExchange:
        def with_call(request: Message, timeout: float | None = None, metadata: Md = (), **_: Any) -> Any:
            return exchange(request, timeout=timeout, metadata=metadata), CompletedCall()

        return with_call

    def server_stream(self, method: Method[Any, Any]) -> StreamOpener:
        rule_of(method)

        def open_stream(request: Any, timeout: float | None, metadata: Md, **_: Any) -> HttpStream:
            return HttpStream(self, method, request, timeout, metadata)

        return open_stream

    def bidi(self, method: Method[Any, Any]) -> StreamOpener:
        raise no_json_form(method)

    def client_stream(self, method: Method[Any, Any]) -> UnaryExchange:
        raise no_json_form(method)
