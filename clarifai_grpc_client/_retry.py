"""Retry policy: the decision, the backoff and the deadline maths, written once for every transport.

A transport turns each attempt into an :class:`Outcome`; :class:`RetryState` decides whether and
when to try again. Only the two sleep loops (:func:`run` and :func:`run_async`) exist twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc

from ._status import RETRYABLE_STATUS_CODES

T = TypeVar("T")

_DEFAULT_GRPC_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})
# 429 is a rejection (nothing was done), 502/503/504 come from proxies and load balancers.
_DEFAULT_HTTP_STATUSES = frozenset({429, 502, 503, 504})
_REJECTION_GRPC_CODES = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED})
_DEADLINE_SLACK = 0.002  # seconds: less than this left of a deadline counts as none


def _jitter() -> float:
    """A uniform draw in [0, 1): ``random`` loads with the first retry, not with the package."""
    import random

    return random.random()


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often a call is tried again. Immutable: derive variants with :meth:`replace`.

    ``deadline`` bounds the whole call, retries included, in seconds (``None``: only
    ``max_attempts`` bounds it). Backoff is exponential with full jitter: the n-th wait is drawn
    uniformly from ``[0, min(max_backoff, initial_backoff * multiplier**(n-1))]``, unless the server
    asked for a precise wait (``grpc-retry-pushback-ms`` or ``Retry-After``).

    While a call has provably sent nothing (the connection is refused or still being
    re-established), ``wait_for_connection`` keeps it trying until its deadline whatever
    ``max_attempts`` says, waiting at most ``reconnect_backoff`` between tries, so that a short
    server restart costs latency rather than a failure. Calls without a deadline count attempts.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 10.0
    multiplier: float = 2.0
    retry_grpc_codes: frozenset[grpc.StatusCode] = _DEFAULT_GRPC_CODES
    retry_http_statuses: frozenset[int] = _DEFAULT_HTTP_STATUSES
    retry_status_codes: frozenset[int] = RETRYABLE_STATUS_CODES
    retry_non_idempotent: bool = False
    wait_for_connection: bool = True
    reconnect_backoff: float = 0.5

    def __post_init__(self) -> None:
        from ._errors import ConfigurationError

        for name in ("initial_backoff", "max_backoff", "multiplier", "reconnect_backoff"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ConfigurationError(f"RetryPolicy.{name} must be a finite number, got {value!r}")
        if self.reconnect_backoff < 0:
            raise ConfigurationError(f"RetryPolicy.reconnect_backoff must be >= 0, got {self.reconnect_backoff}")
        if self.max_attempts < 1:
            raise ConfigurationError(f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ConfigurationError(
                "RetryPolicy needs initial_backoff >= 0, max_backoff >= 0 and multiplier >= 1, got "
                f"{self.initial_backoff}, {self.max_backoff}, {self.multiplier}"
            )

    def replace(self, **changes: object) -> RetryPolicy:
        """A copy with some settings changed, e.g. ``policy.replace(max_attempts=3)``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def backoffs(self, rand: Callable[[], float] = _jitter) -> Iterator[float]:
        """The jittered waits before attempts 2, 3, ...: an endless generator."""
        ceiling = self.initial_backoff
        while True:
            yield rand() * min(ceiling, self.max_backoff)
            ceiling *= self.multiplier


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Outcome:
    """What one attempt ended with, in the terms the retry decision needs.

    ``grpc_code``/``http_status`` describe a transport failure; ``status_code`` is the Clarifai
    code in a decoded response body; ``not_sent`` means the request provably never reached the
    server (a refused connection). ``pushback`` is the server's requested wait in seconds
    (negative: the server said not to retry). ``permanent`` marks a failure a repeat cannot fix
    (a message over the size limit), whatever its code.
    """

    grpc_code: grpc.StatusCode | None = None
    http_status: int | None = None
    status_code: int | None = None
    connection_failed: bool = False
    not_sent: bool = False
    pushback: float | None = None
    permanent: bool = False


@dataclass
class RetryState:
    """Bookkeeping of one call: attempts made, time left, and the next wait (pure, clock injected)."""

    policy: RetryPolicy
    idempotent: bool
    timeout: float | None
    clock: Callable[[], float] = time.monotonic
    rand: Callable[[], float] = _jitter
    attempts: int = 0
    started: float | None = None
    _start: float = field(init=False)
    _backoffs: Iterator[float] = field(init=False)

    def __post_init__(self) -> None:
        self._start = self.clock() if self.started is None else self.started
        self._backoffs = self.policy.backoffs(self.rand)

    def remaining(self) -> float | None:
        """Seconds left for the next attempt (its own timeout); None when the call has no deadline."""
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - (self.clock() - self._start))

    def start_attempt(self) -> float | None:
        self.attempts += 1
        return self.remaining()

    def is_retryable(self, outcome: Outcome) -> bool:
        """Whether this failure may be retried at all, before counting attempts or time."""
        p = self.policy
        if outcome.permanent or (outcome.pushback is not None and outcome.pushback < 0):
            return False
        if outcome.not_sent:
            # The request never left this process (connection refused): nothing can have happened.
            return True
        rejected = (
            (outcome.status_code is not None and outcome.status_code in p.retry_status_codes)
            or outcome.http_status == 429
            or outcome.grpc_code in _REJECTION_GRPC_CODES
        )
        if rejected:
            # The server refused before doing anything: safe even for writes.
            return (
                outcome.status_code in p.retry_status_codes
                or outcome.http_status in p.retry_http_statuses
                or outcome.grpc_code in p.retry_grpc_codes
            )
        transient = (
            outcome.connection_failed
            or (outcome.grpc_code is not None and outcome.grpc_code in p.retry_grpc_codes)
            or (outcome.http_status is not None and outcome.http_status in p.retry_http_statuses)
        )
        return transient and (self.idempotent or p.retry_non_idempotent)

    def next_delay(self, outcome: Outcome) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and report ``outcome``."""
        p = self.policy
        reconnecting = outcome.not_sent and p.wait_for_connection and self.timeout is not None
        if (self.attempts >= p.max_attempts and not reconnecting) or not self.is_retryable(outcome):
            return None
        delay = next(self._backoffs)
        if reconnecting:
            delay = min(delay, p.reconnect_backoff)
        if outcome.pushback is not None:
            delay = outcome.pushback
        remaining = self.remaining()
        if reconnecting and remaining is not None:
            # Keep trying up to the deadline itself: the last attempt gets what is left.
            return min(delay, remaining) if remaining > _DEADLINE_SLACK else None
        if remaining is not None and delay >= remaining:
            return None
        return delay

    def out_of_time(self) -> bool:
        """Whether the call's deadline has (all but) passed."""
        remaining = self.remaining()
        return remaining is not None and remaining <= _DEADLINE_SLACK


class Attempted(Generic[T]):
    """An attempt's result: either a value or an exception, plus its :class:`Outcome` (None = success)."""

    __slots__ = ("value", "error", "outcome", "duration", "response")

    def __init__(
        self,
        value: T | None = None,
        error: BaseException | None = None,
        outcome: Outcome | None = None,
        duration: float = 0.0,
        response: object = None,
    ):
        self.value = value
        self.response = response
        self.error = error
        self.outcome = outcome
        self.duration = duration

    def unwrap(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


Observe = Callable[[int, "Attempted[T]", "float | None"], None]


def _decide(state: RetryState, result: Attempted[T], observe: Observe[T] | None) -> float | None:
    delay = None if result.outcome is None else state.next_delay(result.outcome)
    if observe is not None:
        observe(state.attempts, result, delay)
    return delay


def run(
    state: RetryState,
    attempt: Callable[[float | None], Attempted[T]],
    observe: Observe[T] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    first: Attempted[T] | None = None,
) -> Attempted[T]:
    """Drive ``attempt`` (given each attempt's timeout) until success or the policy gives up.

    ``observe`` sees every attempt with the wait chosen after it (None: it was the last).
    ``first`` is an attempt already made (``state.attempts`` counts it).
    """
    result = first
    while True:
        if result is None:
            result = attempt(state.start_attempt())
        delay = _decide(state, result, observe)
        if delay is None:
            return result
        sleep(delay)
        result = None


async def run_async(
    state: RetryState,
    attempt: Callable[[float | None], Awaitable[Attempted[T]]],
    observe: Observe[T] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    first: Attempted[T] | None = None,
) -> Attempted[T]:
    """The ``asyncio`` twin of :func:`run`."""
    result = first
    while True:
        if result is None:
            result = await attempt(state.start_attempt())
        delay = _decide(state, result, observe)
        if delay is None:
            return result
        await sleep(delay)
        result = None


def pushback_from_grpc(metadata: object) -> float | None:
    """``grpc-retry-pushback-ms`` from trailing metadata, in seconds (negative: do not retry)."""
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == "grpc-retry-pushback-ms":
            try:
                return int(value) / 1000.0
            except (TypeError, ValueError):
                return -1.0
    return None


def pushback_from_http(retry_after: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (HTTP dates are not used by the API and are ignored)."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return None
