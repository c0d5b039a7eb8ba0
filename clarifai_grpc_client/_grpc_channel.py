"""gRPC channels (TLS or explicit plaintext, sync and ``asyncio``) whose calls go through the policy.

A channel holds a plain grpc channel, the gRPC transport on it (:mod:`._transports`) and the
:class:`~._policy.Policy` of its config. The generated ``V2Stub`` works on it unchanged and
keeps the raw stub's semantics (responses whatever their status, failures as
``grpc.RpcError``); every call shape gets the channel's metadata, deadline and retries.
Caller-supplied interceptors run beneath the policy, once per attempt.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import Message

from ._calls import Metadata, Method, Shape, v2_methods
from ._config import ChannelConfig
from ._errors import ConfigurationError
from ._policy import Policy
from ._transports import AioGrpcTransport, GrpcTransport


def channel_options(config: ChannelConfig) -> list[tuple[str, Any]]:
    """Message size limits from the config, our user agent, then the caller's options."""
    base: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.primary_user_agent", config.user_agent),
    ]
    overridden = {k for k, _ in config.grpc_options}
    return [kv for kv in base if kv[0] not in overridden] + list(config.grpc_options)


def _credentials(config: ChannelConfig) -> grpc.ChannelCredentials | None:
    if config.transport != "grpc":
        raise ConfigurationError(f"{config.target} is not a gRPC target")
    if not config.target.secure:
        return None
    if not config.verify_tls:
        raise ConfigurationError(
            "TLS verification cannot be turned off for gRPC: pass root_certificates for a private CA instead"
        )
    return grpc.ssl_channel_credentials(root_certificates=config.root_certificates)


def method_for(path: str, shape: Shape, serializer: Any, deserializer: Any) -> Method[Any, Any]:
    """The Method a stub asks for: the V2 one when the path is known, else one that takes any message."""
    known = v2_methods().get(path)
    if known is not None and known.shape == shape:
        return known
    return Method(path, Message, Message, shape, None, serializer or _identity, deserializer or _identity)


def _identity(value: Any) -> Any:
    return value


def _first(value: Any) -> Any:
    return value[0]


class RawUnary:
    """A unary multicallable for the raw stub: the policy around one transport exchange."""

    __slots__ = ("_policy", "_method", "_exchange", "_with_call", "_executor")

    def __init__(self, policy: Policy, method: Method[Any, Any], exchange: Any, with_call: Any, executor: Any) -> None:
        self._policy, self._method, self._exchange, self._with_call = policy, method, exchange, with_call
        self._executor = executor

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._policy.unary(self._exchange, self._method, request, timeout, metadata, kwargs=kwargs)

    def with_call(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._policy.unary(self._with_call, self._method, request, timeout, metadata, kwargs=kwargs, pick=_first)

    def future(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._executor().submit(self.__call__, request, timeout, metadata, **kwargs)


class RawStream:
    """A streaming multicallable for the raw stub (server streaming or bidirectional)."""

    __slots__ = ("_policy", "_method", "_opener", "_bidi")

    def __init__(self, policy: Policy, method: Method[Any, Any], opener: Any, bidi: bool) -> None:
        self._policy, self._method, self._opener, self._bidi = policy, method, opener, bidi

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        call = self._policy.bidi if self._bidi else self._policy.server_stream
        return call(self._opener, self._method, request, timeout, metadata, kwargs=kwargs)


class RawClientStream:
    """A client-streaming multicallable for the raw stub."""

    __slots__ = ("_policy", "_method", "_exchange")

    def __init__(self, policy: Policy, method: Method[Any, Any], exchange: Any) -> None:
        self._policy, self._method, self._exchange = policy, method, exchange

    def __call__(self, requests: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._policy.client_stream(self._exchange, self._method, requests, timeout, metadata, kwargs=kwargs)


class AsyncRawUnary:
    __slots__ = ("_policy", "_method", "_exchange")

    def __init__(self, policy: Policy, method: Method[Any, Any], exchange: Any) -> None:
        self._policy, self._method, self._exchange = policy, method, exchange

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._policy.aunary(self._exchange, self._method, request, timeout, metadata, kwargs=kwargs)


class AsyncRawStream:
    __slots__ = ("_policy", "_method", "_opener", "_bidi")

    def __init__(self, policy: Policy, method: Method[Any, Any], opener: Any, bidi: bool) -> None:
        self._policy, self._method, self._opener, self._bidi = policy, method, opener, bidi

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        call = self._policy.abidi if self._bidi else self._policy.aserver_stream
        return call(self._opener, self._method, request, timeout, metadata, kwargs=kwargs)


class AsyncRawClientStream:
    __slots__ = ("_policy", "_method", "_exchange")

    def __init__(self, policy: Policy, method: Method[Any, Any], exchange: Any) -> None:
        self._policy, self._method, self._exchange = policy, method, exchange

    def __call__(self, requests: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._policy.aclient_stream(self._exchange, self._method, requests, timeout, metadata, kwargs=kwargs)


class GrpcChannel(grpc.Channel):
    """A sync gRPC channel with the policy of ``config``; pass it to ``V2Stub``."""

    def __init__(self, config: ChannelConfig, interceptors: Sequence[Any] = ()) -> None:
        creds = _credentials(config)
        options = channel_options(config)
        if creds is None:
            raw = grpc.insecure_channel(config.target.grpc_target, options=options)
        else:
            raw = grpc.secure_channel(config.target.grpc_target, creds, options=options)
        self.config = config
        self._base = raw
        self._raw = grpc.intercept_channel(raw, *interceptors) if interceptors else raw
        self.policy = Policy(config)
        self.transport = GrpcTransport(self._raw)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="clarifai-grpc")
            return self._executor

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "unary_unary", request_serializer, response_deserializer)
        exchange = self.transport.unary(m)  # one multicallable per method, shared by its with_call form
        return RawUnary(self.policy, m, exchange, self.transport.unary_with_call(exchange), self.executor)

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "unary_stream", request_serializer, response_deserializer)
        return RawStream(self.policy, m, self.transport.server_stream(m), False)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "stream_unary", request_serializer, response_deserializer)
        return RawClientStream(self.policy, m, self.transport.client_stream(m))

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "stream_stream", request_serializer, response_deserializer)
        return RawStream(self.policy, m, self.transport.bidi(m), True)

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        self._base.subscribe(callback, try_to_connect)

    def unsubscribe(self, callback: Any) -> None:
        self._base.unsubscribe(callback)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._base.close()

    def __enter__(self) -> GrpcChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GrpcChannel({self.config.target})"


class AsyncGrpcChannel(grpc.aio.Channel):
    """The ``asyncio`` twin of :class:`GrpcChannel`; calls are awaited."""

    def __init__(self, config: ChannelConfig, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()) -> None:
        creds = _credentials(config)
        options = channel_options(config)
        chain = list(interceptors) or None
        if creds is None:
            self._raw = grpc.aio.insecure_channel(config.target.grpc_target, options=options, interceptors=chain)
        else:
            self._raw = grpc.aio.secure_channel(config.target.grpc_target, creds, options=options, interceptors=chain)
        self.config = config
        self.policy = Policy(config)
        self.transport = AioGrpcTransport(self._raw)

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "unary_unary", request_serializer, response_deserializer)
        return AsyncRawUnary(self.policy, m, self.transport.unary(m))

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "unary_stream", request_serializer, response_deserializer)
        return AsyncRawStream(self.policy, m, self.transport.server_stream(m), False)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "stream_unary", request_serializer, response_deserializer)
        return AsyncRawClientStream(self.policy, m, self.transport.client_stream(m))

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        m = method_for(method, "stream_stream", request_serializer, response_deserializer)
        return AsyncRawStream(self.policy, m, self.transport.bidi(m), True)

    async def close(self, grace: float | None = None) -> None:
        await self._raw.close(grace)

    async def __aenter__(self) -> AsyncGrpcChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._raw.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._raw.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._raw.channel_ready()

    def __repr__(self) -> str:
        return f"AsyncGrpcChannel({self.config.target})"


def create_grpc_channel(config: ChannelConfig, interceptors: Sequence[Any] = ()) -> GrpcChannel:
    """A sync gRPC channel for ``config`` (TLS unless the target is explicitly plaintext)."""
    return GrpcChannel(config, interceptors)


def create_aio_grpc_channel(config: ChannelConfig, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()) -> AsyncGrpcChannel:
    """The ``asyncio`` twin of :func:`create_grpc_channel`."""
    return AsyncGrpcChannel(config, interceptors)
