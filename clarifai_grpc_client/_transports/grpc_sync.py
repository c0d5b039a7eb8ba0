"""The sync gRPC transport: one exchange per call on a ``grpc.Channel``.

Streams are the channel's own call objects; an idle timeout, when asked for, is kept by one
watchdog thread per stream that cancels the call when no message arrived in time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
from google.protobuf.message import Message

from .._calls import Method
from ._base import IdleTimeout, Md, StreamOpener, UnaryExchange


class _Watchdog:
    """Cancels ``call`` when it is armed and ``seconds`` pass before it is disarmed."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._cond = threading.Condition()
        self._due: float | None = None
        self._stopped = False
        self.expired = False
        self._thread = threading.Thread(target=self._run, name="clarifai-stream-idle", daemon=True)
        self._thread.start()

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._due = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._due = None

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._due is None:
                    self._cond.wait()
                    continue
                left = self._due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.expired = True
                self._due = None
                self._call.cancel()


class GrpcStream:
    """A streaming call's responses, read one at a time."""

    __slots__ = ("call", "_watchdog")

    def __init__(self, call: Any) -> None:
        self.call = call
        self._watchdog: _Watchdog | None = None

    def next(self, idle: float | None) -> Message:
        if idle is None:
            return next(self.call)  # type: ignore[no-any-return]
        dog = self._watchdog
        if dog is None:
            dog = self._watchdog = _Watchdog(self.call)
        dog.arm(idle)
        try:
            return next(self.call)  # type: ignore[no-any-return]
        except grpc.RpcError:
            if dog.expired:
                raise IdleTimeout(idle) from None
            raise
        except StopIteration:
            dog.stop()
            raise
        finally:
            dog.disarm()

    def cancel(self) -> None:
        self.call.cancel()
        if self._watchdog is not None:
            self._watchdog.stop()

    def __del__(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()


class GrpcTransport:
    """Exchanges on a sync ``grpc.Channel`` (any: ours, a plain one, or an intercepted one)."""

    name = "grpc"

    def __init__(self, channel: grpc.Channel, wait_for_ready: bool | None = None) -> None:
        self.channel = channel
        self._wait = wait_for_ready

    def unary(self, method: Method[Any, Any]) -> UnaryExchange:
        return self.channel.unary_unary(method.path, request_serializer=method.serializer,
                                        response_deserializer=method.deserializer)

    def unary_with_call(self, exchange: UnaryExchange) -> UnaryExchange:
        return exchange.with_call  # type: ignore[no-any-return,attr-defined]

    def client_stream(self, method: Method[Any, Any]) -> UnaryExchange:
        return self.channel.stream_unary(method.path, request_serializer=method.serializer,
                                         response_deserializer=method.deserializer)

    def server_stream(self, method: Method[Any, Any]) -> StreamOpener:
        raw = self.channel.unary_stream(method.path, request_serializer=method.serializer,
                                        response_deserializer=method.deserializer)

        def open_stream(request: Any, timeout: float | None, metadata: Md, **kwargs: Any) -> GrpcStream:
            return GrpcStream(raw(request, timeout=timeout, metadata=metadata, **kwargs))

        return open_stream

    def bidi(self, method: Method[Any, Any]) -> StreamOpener:
        raw = self.channel.stream_stream(method.path, request_serializer=method.serializer,
                                         response_deserializer=method.deserializer)

        def open_stream(requests: Any, timeout: float | None, metadata: Md, **kwargs: Any) -> GrpcStream:
            return GrpcStream(raw(requests, timeout=timeout, metadata=metadata, **kwargs))

        return open_stream
