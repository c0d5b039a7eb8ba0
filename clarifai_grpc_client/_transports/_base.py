"""What the policy expects of a transport: one exchange of a given call shape, nothing more.

A transport turns a :class:`~.._calls.Method` into exchange functions. A unary exchange sends
one request and returns the response or raises a ``grpc.RpcError`` (the JSON transports raise
a :class:`~.._errors.TransportError`, which is one). A streaming exchange returns a stream
object whose ``next(idle)`` gives the next response, raises ``StopIteration`` (or
``StopAsyncIteration``) at the end, :class:`IdleTimeout` when ``idle`` seconds pass without a
message, or a ``grpc.RpcError``; ``cancel()`` ends it on the wire. Metadata, deadlines,
retries, status checks and error mapping are the policy's (:mod:`.._policy`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Iterator
from typing import Any, Protocol

from google.protobuf.message import Message

from .._calls import Method

Md = tuple[tuple[str, "str | bytes"], ...]


class IdleTimeout(Exception):
    """No message arrived within the stream's idle timeout (the transport has cancelled the call)."""


class SyncStream(Protocol):
    def next(self, idle: float | None) -> Message: ...

    def cancel(self) -> None: ...


class AsyncStream(Protocol):
    async def next(self, idle: float | None) -> Message: ...

    def cancel(self) -> None: ...

    async def aclose(self) -> None: ...


UnaryExchange = Callable[..., Any]
StreamOpener = Callable[[Any, "float | None", Md], SyncStream]
AsyncUnaryExchange = Callable[..., Coroutine[Any, Any, Any]]
AsyncStreamOpener = Callable[[Any, "float | None", Md], AsyncStream]


class SyncTransport(Protocol):
    """A sync transport: gRPC or HTTP/JSON."""

    name: str

    def unary(self, method: Method[Any, Any]) -> UnaryExchange: ...

    def unary_with_call(self, exchange: UnaryExchange) -> UnaryExchange:
        """The ``with_call`` form of an exchange this transport made (a response and a call object)."""
        ...

    def server_stream(self, method: Method[Any, Any]) -> StreamOpener: ...

    def bidi(self, method: Method[Any, Any]) -> StreamOpener: ...

    def client_stream(self, method: Method[Any, Any]) -> UnaryExchange: ...


class AsyncTransport(Protocol):
    """An ``asyncio`` transport: gRPC or HTTP/JSON."""

    name: str

    def unary(self, method: Method[Any, Any]) -> AsyncUnaryExchange: ...

    def server_stream(self, method: Method[Any, Any]) -> AsyncStreamOpener: ...

    def bidi(self, method: Method[Any, Any]) -> AsyncStreamOpener: ...

    def client_stream(self, method: Method[Any, Any]) -> AsyncUnaryExchange: ...


Requests = Iterable[Message] | AsyncIterable[Message]
RequestIterator = Iterator[Message]
