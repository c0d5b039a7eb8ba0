"""gRPC channels (TLS or explicit plaintext, sync and ``asyncio``) that apply the call policy.

Each wraps a plain grpc channel and hands the generated stub multicallables that add the
channel's metadata, the default deadline and the retry loop around the plain ones. This is
cheaper than a grpc interceptor (which builds call-detail objects and, on ``grpc.aio``, takes a
slower call path), so a call costs about what the raw stub costs. Caller-supplied interceptors
run beneath the policy, once per attempt. Streaming RPCs (none in V2) get the metadata only.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

from ._calls import CallPolicy, Metadata, rpc_error_outcome
from ._config import MAX_MESSAGE_BYTES, ChannelConfig
from ._errors import ConfigurationError
from ._retry import Attempted


def channel_options(config: ChannelConfig) -> list[tuple[str, Any]]:
    """Message size limits as large as the API allows, our user agent, then the caller's options."""
    base: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
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


class _UnaryUnary:
    __slots__ = ("_raw", "_method", "_policy", "_channel")

    def __init__(self, raw: Any, method: str, policy: CallPolicy, channel: GrpcChannel) -> None:
        self._raw, self._method, self._policy, self._channel = raw, method, policy, channel

    def _invoke(self, request: Any, timeout: float | None, metadata: Metadata | None, kwargs: dict[str, Any], with_call: bool) -> Any:
        policy = self._policy
        md = policy.call_metadata(metadata)
        call = self._raw.with_call if with_call else self._raw

        def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            try:
                value = call(request, timeout=remaining, metadata=md, **kwargs)
            except grpc.RpcError as err:
                return Attempted(error=err, outcome=rpc_error_outcome(err), duration=time.perf_counter() - started)
            response = value[0] if with_call else value
            return Attempted(value=value, outcome=policy.outcome(response), duration=time.perf_counter() - started,
                             response=response)

        deadline = policy.timeout(timeout)
        if policy.observing():
            return policy.invoke(self._method, request, deadline, attempt).unwrap()
        # The common case inline: one attempt, no result object on success.
        started = time.monotonic()
        try:
            value = call(request, timeout=deadline, metadata=md, **kwargs)
        except grpc.RpcError as err:
            first: Attempted[Any] = Attempted(error=err, outcome=rpc_error_outcome(err))
        else:
            response = value[0] if with_call else value
            outcome = policy.outcome(response)
            if outcome is None:
                return value
            first = Attempted(value=value, outcome=outcome, response=response)
        return policy.resume(self._method, request, deadline, started, first, attempt).unwrap()

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._invoke(request, timeout, metadata, kwargs, False)

    def with_call(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._invoke(request, timeout, metadata, kwargs, True)

    def future(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._channel.executor().submit(self._invoke, request, timeout, metadata, kwargs, False)


class _MetadataOnly:
    """A streaming multicallable with the channel's metadata added (no retries, no default deadline)."""

    def __init__(self, raw: Any, policy: CallPolicy) -> None:
        self._raw, self._policy = raw, policy

    def __call__(self, *args: Any, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._raw(*args, metadata=self._policy.call_metadata(metadata), **kwargs)


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
        self._policy = CallPolicy(config)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="clarifai-grpc")
            return self._executor

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        raw = self._raw.unary_unary(method, request_serializer, response_deserializer, **kw)
        return _UnaryUnary(raw, method, self._policy, self)

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.unary_stream(method, request_serializer, response_deserializer, **kw), self._policy)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.stream_unary(method, request_serializer, response_deserializer, **kw), self._policy)

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.stream_stream(method, request_serializer, response_deserializer, **kw), self._policy)

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


class _AsyncUnaryUnary:
    __slots__ = ("_raw", "_method", "_policy")

    def __init__(self, raw: Any, method: str, policy: CallPolicy) -> None:
        self._raw, self._method, self._policy = raw, method, policy

    async def _invoke(self, request: Any, timeout: float | None, metadata: Metadata | None, kwargs: dict[str, Any]) -> Any:
        policy = self._policy
        md = policy.call_metadata(metadata)
        raw = self._raw

        async def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            try:
                response = await raw(request, timeout=remaining, metadata=md, **kwargs)
            except grpc.RpcError as err:
                return Attempted(error=err, outcome=rpc_error_outcome(err), duration=time.perf_counter() - started)
            return Attempted(value=response, outcome=policy.outcome(response), duration=time.perf_counter() - started,
                             response=response)

        deadline = policy.timeout(timeout)
        if policy.observing():
            return (await policy.ainvoke(self._method, request, deadline, attempt)).unwrap()
        # The common case inline: one attempt, no extra coroutine or result object on success.
        started = time.monotonic()
        try:
            response = await raw(request, timeout=deadline, metadata=md, **kwargs)
        except grpc.RpcError as err:
            first: Attempted[Any] = Attempted(error=err, outcome=rpc_error_outcome(err))
        else:
            outcome = policy.outcome(response)
            if outcome is None:
                return response
            first = Attempted(value=response, outcome=outcome, response=response)
        return (await policy.aresume(self._method, request, deadline, started, first, attempt)).unwrap()

    def __call__(self, request: Any, timeout: float | None = None, metadata: Metadata | None = None, **kwargs: Any) -> Any:
        return self._invoke(request, timeout, metadata, kwargs)


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
        self._policy = CallPolicy(config)

    def unary_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        raw = self._raw.unary_unary(method, request_serializer, response_deserializer, **kw)
        return _AsyncUnaryUnary(raw, method, self._policy)

    def unary_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.unary_stream(method, request_serializer, response_deserializer, **kw), self._policy)

    def stream_unary(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.stream_unary(method, request_serializer, response_deserializer, **kw), self._policy)

    def stream_stream(self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **kw: Any) -> Any:
        return _MetadataOnly(self._raw.stream_stream(method, request_serializer, response_deserializer, **kw), self._policy)

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
