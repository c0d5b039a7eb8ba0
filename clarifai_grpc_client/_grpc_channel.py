"""gRPC channels (TLS or explicit plaintext, sync and ``asyncio``) with the call policy applied by
one interceptor each: metadata, default deadline, retries, logging and observers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import grpc
import grpc.aio

from . import _calls
from ._config import MAX_MESSAGE_BYTES, ChannelConfig
from ._errors import ConfigurationError
from ._retry import Attempted, run, run_async


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _ClientCallDetails(_Details, grpc.ClientCallDetails):
    """grpc wants an instance of its ClientCallDetails; a NamedTuple gives the fields."""


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
    if not config.target.secure:
        return None
    if not config.verify_tls:
        raise ConfigurationError(
            "TLS verification cannot be turned off for gRPC: pass root_certificates for a private CA instead"
        )
    return grpc.ssl_channel_credentials(root_certificates=config.root_certificates)


class _PolicyInterceptor(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, config: ChannelConfig) -> None:
        self._config = config

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        config = self._config
        method = details.method if isinstance(details.method, str) else details.method.decode()
        timeout = _calls.effective_timeout(config, details.timeout)
        metadata = config.call_metadata(details.metadata)
        state = _calls.new_state(config, method, request, timeout)

        def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            call = continuation(
                _ClientCallDetails(
                    method, remaining, metadata, details.credentials, details.wait_for_ready, details.compression
                ),
                request,
            )
            duration = time.perf_counter() - started
            if isinstance(call, grpc.RpcError) or call.exception() is not None:
                err = call if isinstance(call, grpc.RpcError) else call.exception()
                return Attempted(value=call, outcome=_calls.rpc_error_outcome(err), duration=duration)
            response = call.result()
            return Attempted(
                value=call, outcome=_calls.response_outcome(config, response), duration=duration, response=response
            )

        return run(state, attempt, _calls.observer(config, method)).value


class _AsyncPolicyInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, config: ChannelConfig) -> None:
        self._config = config

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        config = self._config
        method = details.method if isinstance(details.method, str) else details.method.decode()
        timeout = _calls.effective_timeout(config, details.timeout)
        metadata = grpc.aio.Metadata(*config.call_metadata(list(details.metadata or ())))
        state = _calls.new_state(config, method, request, timeout)

        async def attempt(remaining: float | None) -> Attempted[Any]:
            started = time.perf_counter()
            call = await continuation(
                grpc.aio.ClientCallDetails(
                    details.method, remaining, metadata, details.credentials, details.wait_for_ready
                ),
                request,
            )
            try:
                response = await call
            except grpc.RpcError as err:
                return Attempted(
                    value=call, outcome=_calls.rpc_error_outcome(err), duration=time.perf_counter() - started
                )
            return Attempted(
                value=call,
                outcome=_calls.response_outcome(config, response),
                duration=time.perf_counter() - started,
                response=response,
            )

        return (await run_async(state, attempt, _calls.observer(config, method))).value


def create_grpc_channel(config: ChannelConfig, interceptors: Sequence[grpc.UnaryUnaryClientInterceptor] = ()) -> grpc.Channel:
    """A sync gRPC channel for ``config`` (TLS unless the target is explicitly plaintext).

    ``interceptors`` run inside the policy, once per attempt (for tracing or metrics).
    """
    if config.transport != "grpc":
        raise ConfigurationError(f"{config.target} is not a gRPC target")
    creds = _credentials(config)
    options = channel_options(config)
    if creds is None:
        channel = grpc.insecure_channel(config.target.grpc_target, options=options)
    else:
        channel = grpc.secure_channel(config.target.grpc_target, creds, options=options)
    return grpc.intercept_channel(channel, _PolicyInterceptor(config), *interceptors)


def create_aio_grpc_channel(
    config: ChannelConfig, interceptors: Sequence[grpc.aio.ClientInterceptor] = ()
) -> grpc.aio.Channel:
    """The ``asyncio`` twin of :func:`create_grpc_channel`."""
    if config.transport != "grpc":
        raise ConfigurationError(f"{config.target} is not a gRPC target")
    creds = _credentials(config)
    options = channel_options(config)
    chain = [_AsyncPolicyInterceptor(config), *interceptors]
    if creds is None:
        return grpc.aio.insecure_channel(config.target.grpc_target, options=options, interceptors=chain)
    return grpc.aio.secure_channel(config.target.grpc_target, creds, options=options, interceptors=chain)
