"""The ``asyncio`` gRPC transport: one exchange per call on a ``grpc.aio.Channel``."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import Message

from .._calls import Method
from ._base import AsyncStreamOpener, AsyncUnaryExchange, IdleTimeout, Md


class AioGrpcStream:
    """A streaming ``grpc.aio`` call's responses, read one at a time."""

    __slots__ = ("call",)

    def __init__(self, call: Any) -> None:
        self.call = call

    async def next(self, idle: float | None) -> Message:
        if idle is None:
            message = await self.call.read()
        else:
            try:
                message = await asyncio.wait_for(self.call.read(), idle)
            except asyncio.TimeoutError:
                self.call.cancel()
                raise IdleTimeout(idle) from None
        if message is grpc.aio.EOF:
            raise StopAsyncIteration
        return message  # type: ignore[no-any-return]

    def cancel(self) -> None:
        self.call.cancel()

    async def aclose(self) -> None:
        self.call.cancel()

    def __del__(self) -> None:
        try:
            if not self.call.done():
                self.call.cancel()
        except Exception:  # the loop may be gone at interpreter exit
            pass


class AioGrpcTransport:
    """Exchanges on a ``grpc.aio.Channel``."""

    name = "grpc"

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel

    def unary(self, method: Method[Any, Any]) -> AsyncUnaryExchange:
        return self.channel.unary_unary(method.path, request_serializer=method.serializer,  # type: ignore[return-value]
                                        response_deserializer=method.deserializer)

    def client_stream(self, method: Method[Any, Any]) -> AsyncUnaryExchange:
        return self.channel.stream_unary(method.path, request_serializer=method.serializer,  # type: ignore[return-value]
                                         response_deserializer=method.deserializer)

    def server_stream(self, method: Method[Any, Any]) -> AsyncStreamOpener:
        raw = self.channel.unary_stream(method.path, request_serializer=method.serializer,
                                        response_deserializer=method.deserializer)

        def open_stream(request: Any, timeout: float | None, metadata: Md, **kwargs: Any) -> AioGrpcStream:
            return AioGrpcStream(raw(request, timeout=timeout, metadata=metadata, **kwargs))

        return open_stream

    def bidi(self, method: Method[Any, Any]) -> AsyncStreamOpener:
        raw = self.channel.stream_stream(method.path, request_serializer=method.serializer,
                                         response_deserializer=method.deserializer)

        def open_stream(requests: Any, timeout: float | None, metadata: Md, **kwargs: Any) -> AioGrpcStream:
            return AioGrpcStream(raw(requests, timeout=timeout, metadata=metadata, **kwargs))

        return open_stream
