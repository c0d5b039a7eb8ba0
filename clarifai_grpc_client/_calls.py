"""What every call does whatever its transport: pick the deadline, build metadata, classify an
attempt's result for the retry policy, drive the retry loop, and report attempts.

:class:`CallPolicy` is built once per channel from its :class:`ChannelConfig`, so the per-call
work on the common path (one attempt that succeeds) is a metadata merge and one status check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from ._config import CallEvent, ChannelConfig
from ._errors import ConfigurationError
from ._idempotency import is_idempotent, rpc_name
from ._retry import Attempted, Outcome, RetryState, pushback_from_grpc, run, run_async
from ._status import code_name

logger = logging.getLogger("clarifai_grpc_client")

T = TypeVar("T")
Metadata = Sequence[tuple[str, "str | bytes"]]


def rpc_error_outcome(err: grpc.RpcError) -> Outcome:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    return Outcome(grpc_code=code, pushback=pushback_from_grpc(trailing))


class CallPolicy:
    """A channel's per-call behaviour, precomputed from its config."""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.metadata: tuple[tuple[str, str | bytes], ...] = tuple(config.call_metadata(None))
        self._keys = frozenset(k for k, _ in self.metadata)
        self.retry_codes = config.retry.retry_status_codes

    def call_metadata(self, extra: Metadata | None) -> tuple[tuple[str, str | bytes], ...]:
        """The caller's metadata first, then the channel's for keys the caller did not set."""
        if not extra:
            return self.metadata
        own = tuple(extra)
        keys = {k.lower() for k, _ in own}
        if keys.isdisjoint(self._keys):
            return own + self.metadata
        return own + tuple(kv for kv in self.metadata if kv[0] not in keys)

    def timeout(self, timeout: float | None) -> float | None:
        """The call's overall deadline: the caller's if given, else the channel default."""
        if timeout is None:
            return self.config.timeout
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout!r}")
        return float(timeout)

    def outcome(self, response: Any) -> Outcome | None:
        """An Outcome when a decoded response's Clarifai status asks for a retry, else None."""
        status = getattr(response, "status", None)
        if status is not None and status.code in self.retry_codes:
            return Outcome(status_code=status.code)
        return None

    def observing(self) -> bool:
        """Whether attempts are reported (observers, or DEBUG logging): then every call takes the full loop."""
        return bool(self.config.observers) or logger.isEnabledFor(logging.DEBUG)

    def _state(self, method: str, request: Message, timeout: float | None, started: float | None) -> RetryState:
        return RetryState(self.config.retry, idempotent=is_idempotent(method, request), timeout=timeout, started=started)

    def invoke(self, method: str, request: Message, timeout: float | None, attempt: Callable[[float | None], Attempted[T]]) -> Attempted[T]:
        """Run ``attempt`` under the retry policy (``timeout`` already resolved)."""
        if self.observing():
            return run(self._state(method, request, timeout, None), attempt, self._observer(method))
        started = time.monotonic()
        first = attempt(timeout)
        if first.outcome is None:
            return first
        return self.resume(method, request, timeout, started, first, attempt)

    def resume(self, method: str, request: Message, timeout: float | None, started: float, first: Attempted[T],
               attempt: Callable[[float | None], Attempted[T]]) -> Attempted[T]:
        """Carry on after a first attempt (made at ``started``) that did not succeed."""
        state = self._state(method, request, timeout, started)
        state.attempts = 1
        return run(state, attempt, first=first)

    async def ainvoke(
        self, method: str, request: Message, timeout: float | None, attempt: Callable[[float | None], Awaitable[Attempted[T]]]
    ) -> Attempted[T]:
        """The ``asyncio`` twin of :meth:`invoke`."""
        if self.observing():
            return await run_async(self._state(method, request, timeout, None), attempt, self._observer(method))
        started = time.monotonic()
        first = await attempt(timeout)
        if first.outcome is None:
            return first
        return await self.aresume(method, request, timeout, started, first, attempt)

    async def aresume(self, method: str, request: Message, timeout: float | None, started: float, first: Attempted[T],
                      attempt: Callable[[float | None], Awaitable[Attempted[T]]]) -> Attempted[T]:
        """The ``asyncio`` twin of :meth:`resume`."""
        state = self._state(method, request, timeout, started)
        state.attempts = 1
        return await run_async(state, attempt, first=first)

    def _observer(self, method: str) -> Callable[[int, Attempted[Any], float | None], None]:
        def observe(attempt: int, result: Attempted[Any], delay: float | None) -> None:
            self.report(method, attempt, result, delay is not None)

        return observe

    def report(self, method: str, attempt: int, result: Attempted[Any], will_retry: bool) -> None:
        """Log one attempt at DEBUG (never metadata or payloads) and hand it to the observers."""
        outcome, response = result.outcome, result.response
        status = getattr(getattr(response, "status", None), "code", None)
        grpc_code = outcome.grpc_code.name if outcome is not None and outcome.grpc_code is not None else ""
        if outcome is not None and not grpc_code:
            if outcome.http_status:
                grpc_code = f"HTTP {outcome.http_status}"
            elif outcome.connection_failed:
                grpc_code = "UNAVAILABLE"
        if status:
            status_name = code_name(status)
        elif outcome is not None and outcome.status_code:
            status_name = code_name(outcome.status_code)
        else:
            status_name = ""
        config = self.config
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s %s attempt=%d %.1fms grpc=%s status=%s%s",
                config.transport,
                rpc_name(method),
                config.target,
                attempt,
                result.duration * 1000,
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
                duration=result.duration,
                grpc_code=grpc_code or "OK",
                status_code=status_name,
                will_retry=will_retry,
            )
            for observer in config.observers:
                try:
                    observer(event)
                except Exception:  # an observer must never break a call
                    logger.exception("call observer %r failed", observer)
