"""HTTPS+JSON channels that the generated ``V2Stub`` drives exactly like a gRPC channel.

Each call is transcoded from the method's ``google.api.http`` rule by the HTTP/JSON transport
(:mod:`._transports`) and goes through the same :class:`~._policy.Policy` as over gRPC. A
response body carrying a Clarifai ``status`` is returned as is, whatever the HTTP status, as
over gRPC; what is not the expected message (an HTML page from a proxy, cut JSON, a dropped
connection) raises a :class:`~._errors.TransportError`, which is also a ``grpc.RpcError``.
Server streaming is read as the grpc-gateway JSON sequence (see :mod:`._transports._json_wire`);
bidirectional and client-streaming calls raise :class:`~._errors.StreamingNotSupported`.
Each channel imports its HTTP library when it is made: urllib3 (sync) or aiohttp (``asyncio``).
"""

from __future__ import annotations

import concurrent.futures
import ssl
import threading
from typing import Any

import grpc
import grpc.aio

from ._calls import Method, v2_method
from ._config import ChannelConfig
from ._errors import ConfigurationError, TranscodingError
from ._grpc_channel import AsyncRawStream, AsyncRawUnary, RawStream, RawUnary
from ._policy import Policy
from ._transports._json_wire import decode_response, no_json_form

__all__ = ["AsyncJsonChannel", "JsonChannel", "decode_response"]


def _json_method(path: str) -> Method[Any, Any] | None:
    try:
        return v2_method(path)
    except ConfigurationError:
        return None


def _raiser(error: Exception) -> Any:
    def call(*_: Any, **__: Any) -> Any:
        raise error

    return call


def _unknown(path: str) -> Any:
    return _raiser(TranscodingError(f"{path} is not a V2 method with an HTTP binding"))


def _refuse(path: str) -> Any:
    m = _json_method(path)
    return _unknown(path) if m is None else _raiser(no_json_form(m))


class _JsonChannelBase:
    """Per-channel state shared by the sync and async JSON channels (no module globals)."""

    def __init__(self, config: ChannelConfig) -> None:
        if config.transport != "json":
            raise ConfigurationError(f"{config.target} is not an HTTP(S) base URL")
        self.config = config
        self.policy = Policy(config)

    def _verify(self) -> bool | ssl.SSLContext:
        """TLS verification for either HTTP library: on, off, or against the configured CA alone."""
        if self.config.target.secure and self.config.root_certificates is not None:
            return ssl.create_default_context(cadata=self.config.root_certificates.decode())
        return self.config.verify_tls

    def _headers(self) -> dict[str, str]:
        return {"user-agent": self.config.user_agent, "accept": "application/json"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.target})"


class JsonChannel(_JsonChannelBase, grpc.Channel):
    """A sync HTTP/JSON channel; ``V2Stub(JsonChannel(config))`` works like a gRPC stub.

    Its calls share one urllib3 connection pool to the base URL's host (urllib3 is imported here,
    when the first sync JSON channel is made).
    """

    def __init__(self, config: ChannelConfig) -> None:
        from ._transports.http_sync import HttpTransport, connection_pool

        super().__init__(config)
        self.pool = connection_pool(config.target, verify=self._verify(), max_connections=config.http_max_connections)
        headers = {**self._headers(), "accept-encoding": "gzip"}  # servers may compress: urllib3 decodes
        self.transport = HttpTransport(self.pool, config.target.path_prefix, headers, config.max_message_bytes)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="clarifai-json")
            return self._executor

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        m = _json_method(method)
        if m is None or m.http_rule is None:
            return _unknown(method)
        exchange = self.transport.unary(m)
        return RawUnary(self.policy, m, exchange, self.transport.unary_with_call(exchange), self.executor)

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        m = _json_method(method)
        if m is None or m.http_rule is None:
            return _unknown(method)
        return RawStream(self.policy, m, self.transport.server_stream(m), False)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        return _refuse(method)

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        return _refuse(method)

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        """Connectivity callbacks do not apply to HTTP; accepted and ignored."""

    def unsubscribe(self, callback: Any) -> None:
        """See :meth:`subscribe`."""

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.pool.close()

    def __enter__(self) -> JsonChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncJsonChannel(_JsonChannelBase, grpc.aio.Channel):
    """The ``asyncio`` HTTP/JSON channel; ``V2Stub(AsyncJsonChannel(config))`` is awaited like grpc.aio."""

    def __init__(self, config: ChannelConfig) -> None:
        from ._transports.http_async import AsyncHttpTransport, Sessions

        super().__init__(config)
        self.sessions = Sessions(ssl_context=self._verify(), headers=self._headers(),
                                 max_connections=config.http_max_connections)
        self.transport = AsyncHttpTransport(self.sessions, config.target.base_url, config.max_message_bytes)

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        m = _json_method(method)
        if m is None or m.http_rule is None:
            return _unknown(method)
        return AsyncRawUnary(self.policy, m, self.transport.unary(m))

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        m = _json_method(method)
        if m is None or m.http_rule is None:
            return _unknown(method)
        return AsyncRawStream(self.policy, m, self.transport.server_stream(m), False)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        return _refuse(method)

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any) -> Any:
        return _refuse(method)

    async def close(self, grace: float | None = None) -> None:
        await self.sessions.close()

    async def __aenter__(self) -> AsyncJsonChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return grpc.ChannelConnectivity.READY

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        raise TranscodingError("connectivity states do not apply to an HTTP/JSON channel")

    async def channel_ready(self) -> None:
        """HTTP connections are opened on demand; nothing to wait for."""

