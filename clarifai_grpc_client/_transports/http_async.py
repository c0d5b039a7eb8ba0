"""The ``asyncio`` HTTP/JSON transport: one exchange per call on a pooled ``aiohttp`` session.

The twin of :mod:`.http_sync`, on aiohttp because it sustains several times the concurrent
throughput of ``httpx.AsyncClient`` (``benchmarks/README.md``, row 4). aiohttp binds a session
to the event loop that makes it, so :class:`Sessions` makes one on first use in each loop. A
stream is an async generator: dropping it (breaking out of ``async for``) lets the event loop
close it, which closes the HTTP response on the wire.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from collections.abc import AsyncGenerator, Awaitable
from typing import Any, TypeVar

import aiohttp
from google.protobuf.message import Message
from yarl import URL

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # asyncio.wait_for can swallow a cancellation before 3.12; this timer cannot
    from async_timeout import timeout as _timeout  # type: ignore[import-not-found, unused-ignore]

from .._calls import Method
from .._errors import ConfigurationError
from ._base import AsyncStreamOpener, AsyncUnaryExchange, IdleTimeout, Md
from ._json_wire import (JsonSequence, Prepared, answer, cut_stream, deadline_passed, failed_connection, no_json_form,
                         read_timeout, rule_of, stream_item, stream_refusal, tls_reason)

T = TypeVar("T")
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)
_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError)


class Sessions:
    """The channel's aiohttp session in the running event loop, made on first use there.

    A session left behind in another loop (one ``asyncio.run`` after another) is dropped with its
    connections, which that loop can no longer drive.
    """

    __slots__ = ("_ssl", "_headers", "_limit", "_session", "_loop", "_closed")

    def __init__(self, *, ssl_context: ssl.SSLContext | bool, headers: dict[str, str], max_connections: int) -> None:
        self._ssl, self._headers, self._limit = ssl_context, headers, max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def get(self) -> aiohttp.ClientSession:
        """The session, once the loop has taken note of connections the server closed while they were idle.

        Two turns of the loop let it read the end of file a server sent on an idle keep-alive
        connection, so that the pool drops that connection instead of sending on it. Sent there,
        a request would fail as "connection lost", which a write without ids cannot safely retry;
        a connection refused is known not to have been sent, and is retried.
        """
        if self._closed:
            raise ConfigurationError("this HTTP/JSON channel is closed")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._loop is not loop:
            if session is not None and not session.closed:
                session.detach()  # its loop is gone or elsewhere; nothing here can close it cleanly
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, ssl=self._ssl),
                headers=self._headers, timeout=_NO_TIMEOUT, cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False)
            self._loop = loop
        return session

    async def close(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def connection_failure(method: str, where: str, exc: BaseException) -> Exception:
    """An aiohttp (or timeout) exception raised before or while reading an answer, typed."""
    tls = tls_reason(exc)
    if not tls and isinstance(exc, aiohttp.ClientConnectorCertificateError):
        tls = f": TLS {exc.certificate_error}"
    return failed_connection(method, where, type(exc).__name__, timed_out=isinstance(exc, asyncio.TimeoutError),
                             not_sent=isinstance(exc, aiohttp.ClientConnectorError), tls=tls)


async def _within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """``awaitable``, given ``seconds`` at most; a cancellation of the task always gets through."""
    if seconds is None:
        return await awaitable
    async with _timeout(seconds):
        return await awaitable


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
        left = None if deadline is None else deadline - time.monotonic()
        try:
            session = await transport.sessions.get()
            resp = await _within(session.request(
                prepared.verb, transport.url(prepared.url), data=prepared.body, headers=prepared.headers,
                timeout=_NO_TIMEOUT, allow_redirects=False), self._idle if left is None else left)
        except _FAILURES as exc:
            raise connection_failure(name, where, exc) from None
        finished = False
        try:
            cls = method.response_type
            if resp.status != 200:
                body = await resp.read()
                finished = True
                yield stream_refusal(name, cls, resp.status, resp.headers, body, transport.limit)
                return
            seq = JsonSequence()
            while True:
                seconds, by_deadline = read_timeout(self._idle, deadline, name)
                try:
                    chunk = await _within(resp.content.readany(), seconds)
                except asyncio.TimeoutError:
                    if by_deadline:
                        raise deadline_passed(name) from None
                    raise IdleTimeout(self._idle) from None
                except aiohttp.ClientError as exc:
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
            if finished:
                resp.release()  # read to the end: the connection goes back to the pool
            else:
                resp.close()


class AsyncHttpTransport:
    """Exchanges over HTTP/JSON on the channel's pooled aiohttp session."""

    name = "json"

    def __init__(self, sessions: Sessions, base_url: str, limit: int) -> None:
        self.sessions = sessions
        self.base = base_url.rstrip("/")
        self.limit = limit

    def url(self, path: str) -> URL:
        """The absolute URL of a transcoded path, which is already percent-encoded."""
        return URL(self.base + path, encoded=True)

    def unary(self, method: Method[Any, Any]) -> AsyncUnaryExchange:
        rule = rule_of(method)
        name, cls, limit, sessions, url = method.name, method.response_type, self.limit, self.sessions, self.url

        async def exchange(request: Message, timeout: float | None = None, metadata: Md = (), **_: Any) -> Message:
            prepared = Prepared(name, rule, request, metadata, limit)
            try:
                session = await sessions.get()
                async with session.request(
                        prepared.verb, url(prepared.url), data=prepared.body, headers=prepared.headers,
                        timeout=_NO_TIMEOUT if timeout is None else aiohttp.ClientTimeout(total=timeout),
                        allow_redirects=False) as r:
                    content = await r.read()
            except _FAILURES as exc:
                raise connection_failure(name, f"{prepared.verb} {prepared.path}", exc) from None
            return answer(name, cls, r.status, r.headers, content, limit)

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
