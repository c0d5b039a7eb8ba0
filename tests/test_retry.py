"""The retry decision, backoff and deadline maths, with an injected clock (no sleeping)."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarifai_grpc_client import ConfigurationError, RetryPolicy
from clarifai_grpc_client._retry import Attempted, Outcome, RetryState, pushback_from_grpc, pushback_from_http, run
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state(idempotent: bool = True, timeout: float | None = None, **policy: object) -> tuple[RetryState, Clock]:
    clock = Clock()
    return RetryState(RetryPolicy(**policy), idempotent=idempotent, timeout=timeout, clock=clock, rand=lambda: 1.0), clock  # type: ignore[arg-type]


UNAVAILABLE = Outcome(grpc_code=grpc.StatusCode.UNAVAILABLE)
THROTTLED = Outcome(status_code=status_code_pb2.CONN_THROTTLED)


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    s, _ = state(initial_backoff=0.1, multiplier=2, max_backoff=0.5, max_attempts=10)
    delays = []
    for _ in range(6):
        s.start_attempt()
        delays.append(s.next_delay(UNAVAILABLE))
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5, 0.5])


@given(st.floats(0, 1), st.integers(1, 20))
def test_full_jitter_stays_within_the_ceiling(r: float, n: int) -> None:
    policy = RetryPolicy(initial_backoff=0.05, max_backoff=2.0, multiplier=3)
    gen = policy.backoffs(lambda: r)
    for i in range(n):
        d = next(gen)
        assert 0 <= d <= min(2.0, 0.05 * 3**i) + 1e-12


def test_max_attempts_bounds_retries() -> None:
    s, _ = state(max_attempts=3)
    answers = []
    for _ in range(3):
        s.start_attempt()
        answers.append(s.next_delay(UNAVAILABLE) is not None)
    assert answers == [True, True, False]


def test_deadline_gives_each_attempt_the_remaining_time_and_stops_before_overrun() -> None:
    s, clock = state(timeout=1.0, initial_backoff=0.3, max_attempts=10)
    assert s.start_attempt() == 1.0
    clock.now = 0.6
    assert s.next_delay(UNAVAILABLE) == pytest.approx(0.3)
    clock.now = 0.9
    assert s.start_attempt() == pytest.approx(0.1)
    clock.now = 0.95
    assert s.next_delay(UNAVAILABLE) is None  # 0.6 more would pass the deadline


def test_non_idempotent_calls_retry_only_rejections() -> None:
    s, _ = state(idempotent=False)
    s.start_attempt()
    assert s.next_delay(UNAVAILABLE) is None
    assert s.next_delay(Outcome(http_status=503)) is None
    assert s.next_delay(Outcome(connection_failed=True)) is None
    assert s.next_delay(THROTTLED) is not None
    assert s.next_delay(Outcome(http_status=429)) is not None
    assert s.next_delay(Outcome(connection_failed=True, not_sent=True)) is not None


def test_non_retryable_failures_are_final() -> None:
    s, _ = state()
    s.start_attempt()
    assert s.next_delay(Outcome(grpc_code=grpc.StatusCode.INVALID_ARGUMENT)) is None
    assert s.next_delay(Outcome(status_code=status_code_pb2.INPUT_DOES_NOT_EXIST)) is None
    assert s.next_delay(Outcome(http_status=400)) is None


def test_pushback_overrides_backoff_and_negative_means_stop() -> None:
    s, _ = state(initial_backoff=0.1)
    s.start_attempt()
    assert s.next_delay(Outcome(grpc_code=grpc.StatusCode.UNAVAILABLE, pushback=0.75)) == 0.75
    assert s.next_delay(Outcome(grpc_code=grpc.StatusCode.UNAVAILABLE, pushback=-1.0)) is None
    assert pushback_from_grpc((("grpc-retry-pushback-ms", "250"),)) == 0.25
    assert pushback_from_grpc((("grpc-retry-pushback-ms", "bogus"),)) == -1.0
    assert pushback_from_grpc(()) is None
    assert pushback_from_http("3") == 3.0 and pushback_from_http(None) is None and pushback_from_http("Wed, 21 Oct") is None


def test_configured_codes_are_honoured() -> None:
    s, _ = state(retry_status_codes=frozenset({status_code_pb2.MODEL_DEPLOYING}))
    s.start_attempt()
    assert s.next_delay(THROTTLED) is None
    assert s.next_delay(Outcome(status_code=status_code_pb2.MODEL_DEPLOYING)) is not None


def test_policy_validates_and_copies() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    p = RetryPolicy().replace(max_attempts=2)
    assert p.max_attempts == 2 and RetryPolicy().max_attempts == 5


def test_run_loops_until_success_with_the_policy_sleeps() -> None:
    s, clock = state(initial_backoff=0.1)
    outcomes = [UNAVAILABLE, THROTTLED, None]
    slept: list[float] = []
    seen: list[tuple[int, float | None]] = []
    result = run(
        s,
        lambda t: Attempted(value=len(slept), outcome=outcomes[len(slept)]),
        observe=lambda n, r, d: seen.append((n, d)),
        sleep=slept.append,
    )
    assert result.value == 2 and slept == pytest.approx([0.1, 0.2])
    assert seen == [(1, pytest.approx(0.1)), (2, pytest.approx(0.2)), (3, None)]


NOT_SENT = Outcome(connection_failed=True, not_sent=True)


def test_while_nothing_was_sent_retries_continue_to_the_deadline_past_max_attempts() -> None:
    s, clock = state(timeout=2.0, max_attempts=2, initial_backoff=1.0, reconnect_backoff=0.25)
    delays = []
    while True:
        s.start_attempt()
        delay = s.next_delay(NOT_SENT)
        if delay is None:
            break
        delays.append(delay)
        clock.now += delay
    assert s.attempts > 2 and delays[0] == 0.25  # capped by reconnect_backoff
    assert sum(delays) == pytest.approx(2.0, abs=0.01) and s.out_of_time()


def test_without_a_deadline_or_with_wait_for_connection_off_attempts_are_counted() -> None:
    for s, _ in (state(timeout=None, max_attempts=2), state(timeout=5.0, max_attempts=2, wait_for_connection=False)):
        s.start_attempt()
        assert s.next_delay(NOT_SENT) is not None
        s.start_attempt()
        assert s.next_delay(NOT_SENT) is None


def test_a_permanent_failure_is_never_retried() -> None:
    s, _ = state(retry_grpc_codes=frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED}))
    s.start_attempt()
    assert s.next_delay(Outcome(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED)) is not None
    assert s.next_delay(Outcome(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, permanent=True)) is None


@pytest.mark.parametrize("field", ["initial_backoff", "max_backoff", "multiplier", "reconnect_backoff"])
def test_non_finite_backoff_settings_are_refused(field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        RetryPolicy(**{field: float("inf")})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=field):
        RetryPolicy(**{field: float("nan")})  # type: ignore[arg-type]
