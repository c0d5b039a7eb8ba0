"""What every call does whatever its transport: pick the deadline, build metadata, classify an
attempt's result for the retry policy, and report each attempt to logs and observers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from ._config import CallEvent, ChannelConfig
from ._idempotency import is_idempotent, rpc_name
from ._retry import Attempted, Outcome, RetryState, pushback_from_grpc
from ._status import SUCCESS, code_name

logger = logging.getLogger("clarifai_grpc_client")

_UNSET: Any = object()


def effective_timeout(config: ChannelConfig, timeout: float | None | Any) -> float | None:
    """The call's overall deadline: the caller's ``timeout`` if given, else the channel default."""
    if timeout is _UNSET or timeout is None:
        return config.timeout
    if not timeout > 0:
        from ._errors import ConfigurationError

        raise ConfigurationError(f"timeout must be positive, got {timeout!r}")
    return float(timeout)


def new_state(config: ChannelConfig, method: str, request: Message, timeout: float | None) -> RetryState:
    return RetryState(config.retry, idempotent=is_idempotent(method, request), timeout=timeout)


def response_outcome(config: ChannelConfig, response: Any) -> Outcome | None:
    """An Outcome when a decoded response's Clarifai status asks for a retry, else None."""
    status = getattr(response, "status", None)
    code = getattr(status, "code", SUCCESS)
    if code in config.retry.retry_status_codes:
        return Outcome(status_code=code)
    return None


def rpc_error_outcome(err: grpc.RpcError) -> Outcome:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    return Outcome(grpc_code=code, pushback=pushback_from_grpc(trailing))


def observer(config: ChannelConfig, method: str) -> Callable[[int, Attempted[Any], float | None], None]:
    """The retry loop's ``observe`` callback for one call."""

    def observe(attempt: int, result: Attempted[Any], delay: float | None) -> None:
        report(config, method, attempt, result.duration, result.outcome, result.response, delay is not None)

    return observe


def report(
    config: ChannelConfig,
    method: str,
    attempt: int,
    duration: float,
    outcome: Outcome | None,
    response: Any,
    will_retry: bool,
) -> None:
    """Log one attempt at DEBUG (never metadata or payloads) and hand it to the observers."""
    status = getattr(getattr(response, "status", None), "code", None)
    grpc_code = outcome.grpc_code.name if outcome is not None and outcome.grpc_code is not None else ""
    if outcome is not None and outcome.http_status and not grpc_code:
        grpc_code = f"HTTP {outcome.http_status}"
    status_name = code_name(status) if status else (code_name(outcome.status_code) if outcome and outcome.status_code else "")
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s %s attempt=%d %.1fms grpc=%s status=%s%s",
            config.transport,
            rpc_name(method),
            config.target,
            attempt,
            duration * 1000,
            grpc_code or "OK",
            status_name or "-",
            " retrying" if will_retry else "",
        )
    if config.observers:
        event = CallEvent(
            method=rpc_name(method),
            target=str(config.target),
            transport=config.transport,
            attempt=attempt,
            duration=duration,
            grpc_code=grpc_code or "OK",
            status_code=status_name,
            will_retry=will_retry,
        )
        for observer in config.observers:
            try:
                observer(event)
            except Exception:  # an observer must never break a call
                logger.exception("call observer %r failed", observer)
