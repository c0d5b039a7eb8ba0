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


@dataclass
class _State:
    default: FaultRule = field(default_factory=FaultRule)
    per_rpc: dict[str, FaultRule] = field(default_factory=dict)
    queued: dict[str, collections.deque[FaultKind]] = field(default_factory=dict)
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    injected: collections.Counter[tuple[str, FaultKind]] = field(default_factory=collections.Counter)


class Faults:
    """The runtime-adjustable fault configuration of one emulator (thread-safe)."""

    def __init__(self, rule: FaultRule | None = None, *, per_rpc: Mapping[str, FaultRule] | None = None,
                 seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._state = _State(rule or FaultRule(), {normalize_rpc(k): v for k, v in (per_rpc or {}).items()})

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
