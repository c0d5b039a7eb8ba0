"""What a handler gets for one call (:class:`CallContext`), and the registry handlers join with ``@rpc``.

A handler is a plain function ``(ctx, request) -> response`` registered under its RPC name;
it raises :class:`~.statuses.ApiFailure` to fail. The dispatcher has already authenticated
the caller and resolved which user's app the request acts on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import Message

from .auth import Principal
from .storage import Storage, app_key

DEFAULT_PER_PAGE = 128
MAX_PER_PAGE = 1000

Handler = Callable[["CallContext", Any], Message]
F = TypeVar("F", bound=Callable[..., Message])
STATES = ("stored", "computed", "streaming")


@dataclass(frozen=True)
class HandlerSpec:
    """A handler, what it needs resolved (``app``: an existing app, ``user`` or ``none``) and what
    backs its answer (``stored`` state, a ``computed`` answer), for the coverage table."""

    fn: Handler
    scope: str
    state: str = "stored"


HANDLERS: dict[str, HandlerSpec] = {}


def _check(scope: str, state: str) -> None:
    if scope not in ("app", "user", "none"):
        raise ValueError(f"unknown handler scope {scope!r}")
    if state not in STATES:
        raise ValueError(f"unknown handler state {state!r}")


def rpc(name: str, *, scope: str = "app", state: str = "stored") -> Callable[[F], F]:
    """Register the decorated function as the handler of unary RPC ``name``."""
    _check(scope, state)

    def register(fn: F) -> F:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = HandlerSpec(fn, scope, state)
        return fn

    return register


@dataclass
class CallContext:
    rpc: str
    req_id: str
    principal: Principal
    storage: Storage
    user_id: str
    app_id: str
    # Set by a handler whose successful response carries a non-SUCCESS status (GetStatusCode).
    http_status: int | None = field(default=None)

    @property
    def app(self) -> str:
        """The storage key of the app the call acts on."""
        return app_key(self.user_id, self.app_id)


def page_bounds(page: int, per_page: int, *, default: int = DEFAULT_PER_PAGE, maximum: int = MAX_PER_PAGE) -> tuple[int, int]:
    """(offset, limit) for 1-based ``page`` and ``per_page`` (0 = default; capped at ``maximum``)."""
    size = min(per_page or default, maximum)
    return (max(page, 1) - 1) * size, size
