"""The ``asyncio`` HTTP/JSON transport: one exchange per call with an ``httpx.AsyncClient``.

The twin of :mod:`.http_sync`. A stream is an async generator: dropping it (breaking out of
``async for``) lets the event loop close it, which closes the HTTP response on the wire.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from google.protobuf.message import Message

from .._calls import Method
from ._base import AsyncStreamOpener, AsyncUnaryExchange, IdleTimeout, Md
from ._json_wire import (JsonSequence, Prepared, answer, connection_failure, cut_stream, no_json_form, rule_of,
                         stream_item, stream_refusal)
from .http_sync import deadline_passed, read_timeout


class AsyncHttpStream:
    """A server-streaming call over HTTP, read with ``asyncio``; nothing is sent until the first ``next``."""

    __slots__ = ("_gen", "_idle")

    def __init__(self, transport: AsyncHttpTransport, method: Method[Any, Any], request: Message,
                 timeout: float | None, metadata: Md) -> None:
        self._idle: float | None = None
        self._gen = self._run(transport, method, request, timeout, metadata)

    async def next(self, idle: float | None) -> Message:
        self._idle = idle
        return await self._gen.__anext__()

    def cancel(self) -> None:
        try:
            asyncio.get_running_loop().create_task(self._gen.aclose())
        except RuntimeError:  # no running loop: the generator is closed when collected
            pass

    async def aclose(self) -> None:
        await self._gen.aclose()

    async def _run(self, transport: AsyncHttpTransport, method: Method[Any, Any], request: Message,
                   timeout: float | None, metadata: Md) -> AsyncGenerator[Message, None]:
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
            resp = await http.send(req, stream=True)
        except httpx.TransportError as exc:
            raise connection_failure(name, where, exc) from None
        try:
            cls = method.response_type
            if resp.status_code != 200:
                body = await resp.aread()
                yield stream_refusal(name, cls, resp.status_code, resp.headers, body, transport.limit)
                return
            timeouts = req.extensions["timeout"]
            chunks = resp.aiter_bytes()
            seq = JsonSequence()
            while True:
                timeouts["read"], by_deadline = read_timeout(self._idle, deadline, name)
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
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
            await resp.aclose()


class AsyncHttpTransport:
    """Exchanges over HTTP/JSON on one pooled ``httpx.AsyncClient``."""

    name = "json"

    def __init__(self, http: httpx.AsyncClient, limit: int) -> None:
        self.http = http
        self.limit = limit

    def unary(self, method: Method[Any, Any]) -> AsyncUnaryExchange:
        rule = rule_of(method)
        name, cls, limit, http = method.name, method.response_type, self.limit, self.http

        async def exchange(request: Message, timeout: float | None = None, metadata: Md = (), **_: Any) -> Message:
            prepared = Prepared(name, rule, request, metadata, limit)
            try:
                r = await http.request(prepared.verb, prepared.url, content=prepared.body, headers=prepared.headers,
                                       timeout=timeout)
            except httpx.TransportError as exc:
                raise connection_failure(name, f"{prepared.verb} {prepared.path}", exc) from None
            return answer(name, cls, r.status_code, r.headers, r.content, limit)

        return exchange

    def server_stream(self, method: Method[Any, Any]) -> AsyncStreamOpener:
        rule_of(method)

        def open_stream(request: Any, timeout: float | None, metadata: Md, **_: Any) -> AsyncHttpStream:
            return AsyncHttpStream(self, method, request, timeout, metadata)

        return open_stream

    def bidi(self, method: Method[Any, Any]) -> AsyncStreamOpener:
        raise no_json_form(method)

    def client_stream(self, method: Method[Any, Any]) -> AsyncUnaryExchange:
        raise no_json_form(method)
