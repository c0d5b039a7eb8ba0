"""Fault injection shared by both transports: unavailability, throttling, dropped connections, latency.

One :class:`Faults` object decides, per call, whether to inject a fault; the gRPC servicer and
the HTTP gateway both ask it through the dispatcher, so a rule applies the same way whichever
transport a client uses. Decisions are deterministic for a given seed: the n-th call of an RPC
draws ``sha256(seed, rpc, n)``, so the sequence of faults an RPC sees does not depend on how
calls of other RPCs interleave. For exact tests, :meth:`Faults.fail_next` queues the kind of
fault the next N calls of an RPC get.

Kinds:

- ``unavailable``: the call does nothing; gRPC aborts with ``UNAVAILABLE``, HTTP answers 503.
- ``throttled``: the call does nothing and answers status ``CONN_THROTTLED`` (HTTP 429).
- ``dropped``: the call DOES its work, then the answer is lost: gRPC aborts with
  ``UNAVAILABLE``, the gateway closes the connection without a response. This is the case
  that makes retried writes dangerous, which is why it is worth emulating.

Streams (server-streaming and bidirectional RPCs) get the same start-of-call decision, so a
stream can be refused before its first message, plus two stream-only knobs:

- :meth:`Faults.cut_stream` cuts the next stream(s) of an RPC after N messages: ``unavailable``
  ends it with an error (gRPC ``UNAVAILABLE``; on HTTP a final ``{"error": {...}}`` object),
  ``dropped`` ends it without a word (gRPC ``UNAVAILABLE``; on HTTP the connection is closed
  before the chunked body is terminated).
- ``stream_delay`` (:meth:`Faults.set_stream_delay`) is the pause before each message after
  the first, emulator-wide; a request may set its own (see :mod:`.models`).

:attr:`Faults.streams` records what happened to streams (started, completed, cut, cancelled
by the client), so tests can observe that a client's cancellation reached the server.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

ALL = "*"


class FaultKind(enum.Enum):
    NONE = "none"
    UNAVAILABLE = "unavailable"
    THROTTLED = "throttled"
    DROPPED = "dropped"


@dataclass(frozen=True)
class FaultRule:
    """Rates (0..1, at most 1 in total) of each kind of fault, and latency added to every call."""

    unavailable: float = 0.0
    throttled: float = 0.0
    dropped: float = 0.0
    latency: float = 0.0  # seconds

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0 or value != value:
                raise ValueError(f"fault {f.name} must be >= 0, got {value!r}")
        if self.unavailable + self.throttled + self.dropped > 1.0 + 1e-9:
            raise ValueError("fault rates add up to more than 1")

    @property
    def active(self) -> bool:
        return bool(self.unavailable or self.throttled or self.dropped or self.latency)


@dataclass(frozen=True)
class FaultDecision:
    kind: FaultKind = FaultKind.NONE
    latency: float = 0.0


def normalize_rpc(name: str) -> str:
    """``PostInputs`` for ``/clarifai.api.V2/PostInputs`` or ``PostInputs``."""
    return name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class StreamCut:
    """End a stream after ``after`` messages, with ``kind`` (``unavailable`` or ``dropped``)."""

    after: int
    kind: FaultKind = FaultKind.UNAVAILABLE


class StreamLog:
    """What happened to the streams of one emulator, per RPC (thread-safe; survives restarts).

    Outcomes: ``completed`` (every message sent), ``cut`` (a fault ended it), ``cancelled`` (the
    client went away or cancelled before the end), ``failed`` (refused before the first message).
    """

    OUTCOMES = ("completed", "cut", "cancelled", "failed")

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._started: collections.Counter[str] = collections.Counter()
        self._ended: collections.Counter[tuple[str, str]] = collections.Counter()
        self._sent: collections.Counter[str] = collections.Counter()

    def started(self, rpc: str) -> None:
        with self._cond:
            self._started[normalize_rpc(rpc)] += 1
            self._cond.notify_all()

    def sent(self, rpc: str) -> None:
        with self._cond:
            self._sent[normalize_rpc(rpc)] += 1
            self._cond.notify_all()

    def ended(self, rpc: str, outcome: str) -> None:
        if outcome not in self.OUTCOMES:
            raise ValueError(f"unknown stream outcome {outcome!r}")
        with self._cond:
            self._ended[(normalize_rpc(rpc), outcome)] += 1
            self._cond.notify_all()

    def count(self, outcome: str = "started", rpc: str | None = None) -> int:
        """How many streams (of ``rpc``, or of any) were ``started``, or ended with ``outcome``;
        ``messages``: how many messages they sent."""
        with self._cond:
            return self._count_locked(outcome, rpc)

    def active(self, rpc: str | None = None) -> int:
        """Streams started and not yet ended."""
        with self._cond:
            return self._count_locked("started", rpc) - sum(self._count_locked(o, rpc) for o in self.OUTCOMES)

    def wait_for(self, outcome: str, n: int = 1, rpc: str | None = None, timeout: float = 10.0) -> bool:
        """Block until the count of ``outcome`` reaches ``n`` (True), or ``timeout`` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count_locked(outcome, rpc) >= n, timeout)

    def _count_locked(self, outcome: str, rpc: str | None) -> int:
        want = None if rpc is None else normalize_rpc(rpc)
        if outcome == "started":
            return sum(n for r, n in self._started.items() if want is None or r == want)
        if outcome == "messages":
            return sum(n for r, n in self._sent.items() if want is None or r == want)
        return sum(k for (r, o), k in self._ended.items() if o == outcome and (want is None or r == want))


@dataclass
class _State:
    default: FaultRule = field(default_factory=FaultRule)
    per_rpc: dict[str, FaultRule] = field(default_factory=dict)
    queued: dict[str, collections.deque[FaultKind]] = field(default_factory=dict)
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    injected: collections.Counter[tuple[str, FaultKind]] = field(default_factory=collections.Counter)
    cuts: dict[str, collections.deque[StreamCut]] = field(default_factory=dict)
    stream_delay: float = 0.0


class Faults:
    """The runtime-adjustable fault configuration of one emulator (thread-safe)."""

    def __init__(self, rule: FaultRule | None = None, *, per_rpc: Mapping[str, FaultRule] | None = None,
                 seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._state = _State(rule or FaultRule(), {normalize_rpc(k): v for k, v in (per_rpc or {}).items()})
        self.streams = StreamLog()

    # --- configuration ---------------------------------------------------------------

    def set(self, rpc: str | None = None, *, unavailable: float | None = None, throttled: float | None = None,
            dropped: float | None = None, latency: float | None = None) -> None:
        """Change rates for one RPC (or, with ``rpc`` None, the default for all); unnamed fields keep their value."""
        changes = {k: v for k, v in (("unavailable", unavailable), ("throttled", throttled),
                                     ("dropped", dropped), ("latency", latency)) if v is not None}
        with self._lock:
            if rpc is None or rpc == ALL:
                self._state.default = replace(self._state.default, **changes)
            else:
                name = normalize_rpc(rpc)
                base = self._state.per_rpc.get(name, FaultRule())
                self._state.per_rpc[name] = replace(base, **changes)

    def fail_next(self, rpc: str, n: int = 1, kind: FaultKind | str = FaultKind.UNAVAILABLE) -> None:
        """Make the next ``n`` calls of ``rpc`` (``"*"``: of any RPC) fail with ``kind``."""
        fault = FaultKind(kind)
        if fault is FaultKind.NONE or n < 0:
            raise ValueError("fail_next needs a fault kind and n >= 0")
        with self._lock:
            self._state.queued.setdefault(normalize_rpc(rpc), collections.deque()).extend([fault] * n)

    def cut_stream(self, rpc: str, after: int, kind: FaultKind | str = FaultKind.UNAVAILABLE, times: int = 1) -> None:
        """Cut the next ``times`` streams of ``rpc`` (``"*"``: of any RPC) after ``after`` messages.

        ``kind`` ``unavailable`` ends the stream with an error, ``dropped`` ends it abruptly.
        """
        fault = FaultKind(kind)
        if fault not in (FaultKind.UNAVAILABLE, FaultKind.DROPPED):
            raise ValueError(f"a stream is cut as unavailable or dropped, not {fault.value}")
        if after < 0 or times < 0:
            raise ValueError("cut_stream needs after >= 0 and times >= 0")
        with self._lock:
            self._state.cuts.setdefault(normalize_rpc(rpc), collections.deque()).extend([StreamCut(after, fault)] * times)

    def set_stream_delay(self, seconds: float) -> None:
        """Pause ``seconds`` before each streamed message after the first (emulator-wide default)."""
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"stream delay must be a finite number of seconds >= 0, got {seconds!r}")
        with self._lock:
            self._state.stream_delay = seconds

    @property
    def stream_delay(self) -> float:
        with self._lock:
            return self._state.stream_delay

    def reseed(self, seed: int) -> None:
        """Restart the deterministic sequence of draws with ``seed``."""
        with self._lock:
            self._seed = seed
            self._state.calls.clear()

    def clear(self) -> None:
        """No faults from now on (rates, queued failures and counters reset)."""
        with self._lock:
            self._state = _State()

    def injected(self, rpc: str | None = None, kind: FaultKind | str | None = None) -> int:
        """How many faults were injected (optionally of one RPC and/or kind)."""
        want_kind = None if kind is None else FaultKind(kind)
        want_rpc = None if rpc is None else normalize_rpc(rpc)
        with self._lock:
            return sum(n for (r, k), n in self._state.injected.items()
                       if (want_rpc is None or r == want_rpc) and (want_kind is None or k is want_kind))

    def rule_for(self, rpc: str) -> FaultRule:
        with self._lock:
            return self._state.per_rpc.get(normalize_rpc(rpc), self._state.default)

    # --- decisions -------------------------------------------------------------------

    def _draw(self, rpc: str, n: int) -> float:
        digest = hashlib.sha256(f"{self._seed}:{rpc}:{n}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def decide(self, rpc: str) -> FaultDecision:
        """The fault (if any) for this call of ``rpc``, and the latency to add before it."""
        name = normalize_rpc(rpc)
        with self._lock:
            state = self._state
            rule = state.per_rpc.get(name, state.default)
            kind = FaultKind.NONE
            for key in (name, ALL):
                queue = state.queued.get(key)
                if queue:
                    kind = queue.popleft()
                    break
            else:
                if rule.unavailable or rule.throttled or rule.dropped:
                    state.calls[name] += 1
                    u = self._draw(name, state.calls[name])
                    if u < rule.unavailable:
                        kind = FaultKind.UNAVAILABLE
                    elif u < rule.unavailable + rule.throttled:
                        kind = FaultKind.THROTTLED
                    elif u < rule.unavailable + rule.throttled + rule.dropped:
                        kind = FaultKind.DROPPED
            if kind is not FaultKind.NONE:
                state.injected[(name, kind)] += 1
            return FaultDecision(kind, rule.latency)

    def stream_cut(self, rpc: str) -> StreamCut | None:
        """The cut (if any) for the stream of ``rpc`` now starting; counted as injected when taken."""
        name = normalize_rpc(rpc)
        with self._lock:
            for key in (name, ALL):
                queue = self._state.cuts.get(key)
                if queue:
                    cut = queue.popleft()
                    self._state.injected[(name, cut.kind)] += 1
                    return cut
            return None
