"""The sync HTTP/JSON transport: one exchange per call with an ``httpx.Client``.

Unary calls are transcoded from the method's ``google.api.http`` rule; server streams are read
as the newline-delimited JSON sequence described in :mod:`._json_wire`, with each read bounded
by the idle timeout and by what is left of the call's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import grpc
import httpx
from google.protobuf.message import Message

from .._calls import Method
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


def connection_failure(method: str, where: str, exc: Exception) -> Exception:
    """An httpx exception raised before or while reading an answer, typed."""
    return failed_connection(method, where, type(exc).__name__, timed_out=isinstance(exc, httpx.TimeoutException),
                             not_sent=isinstance(exc, httpx.ConnectError), tls=tls_reason(exc))


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
        http = transport.http
        left = None if deadline is None else deadline - time.monotonic()
        req = http.build_request(prepared.verb, prepared.url, content=prepared.body, headers=prepared.headers,
                                 timeout=httpx.Timeout(self._idle if left is None else left))
        try:
            resp = http.send(req, stream=True)
        except httpx.TransportError as exc:
            raise connection_failure(name, where, exc) from None
        try:
            cls = method.response_type
            if resp.status_code != 200:
                body = resp.read()
                yield stream_refusal(name, cls, resp.status_code, resp.headers, body, transport.limit)
                return
            timeouts = req.extensions["timeout"]
            chunks = resp.iter_bytes()
            seq = JsonSequence()
            while True:
                timeouts["read"], by_deadline = read_timeout(self._idle, deadline, name)
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except httpx.ReadTimeout:
                    if by_deadline:
                        raise deadline_passed(name) from None
                    raise IdleTimeout(self._idle) from None
                except httpx.TransportError as exc:
                    raise cut_stream(name, f"{where}: connection lost ({type(exc).__name__})") from None
                for node in seq.feed(chunk):
                    yield stream_item(name, cls, node)
            try:
                tail = seq.finish()
            except ValueError as exc:
                raise cut_stream(name, str(exc)) from None
            for node in tail:
                yield stream_item(name, cls, node)
        finally:
            resp.close()


class HttpTransport:
    """Exchanges over HTTP/JSON on one pooled ``httpx.Client``."""

    name = "json"

    def __init__(self, http: httpx.Client, limit: int) -> None:
        self.http = http
        self.limit = limit

    def unary(self, method: Method[Any, Any]) -> UnaryExchange:
        rule = rule_of(method)
        name, cls, limit, http = method.name, method.response_type, self.limit, self.http

        def exchange(request: Message, timeout: float | None = None, metadata: Md = (), **_: Any) -> Message:
            prepared = Prepared(name, rule, request, metadata, limit)
            try:
                r = http.request(prepared.verb, prepared.url, content=prepared.body, headers=prepared.headers,
                                 timeout=timeout)
            except httpx.TransportError as exc:
                raise connection_failure(name, f"{prepared.verb} {prepared.path}", exc) from None
            return answer(name, cls, r.status_code, r.headers, r.content, limit)

        return exchange

    def unary_with_call(self, method: Method[Any, Any]) -> UnaryExchange:
        exchange = self.unary(method)

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

