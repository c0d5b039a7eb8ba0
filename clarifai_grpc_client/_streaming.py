"""A resumable ``StreamInputs`` iterator: every input of an app exactly once, one page in memory.

It pages with ``last_id`` (the id of the last input handed out, exposed as :attr:`cursor`), so
it can stop anywhere and resume from a saved cursor in another process. Each page request is
an idempotent read: the client's retry policy covers short faults, and the iterator itself
waits out longer outages (a server restart, dropped connections) for up to ``outage_timeout``
seconds, resuming from its cursor, so that nothing is skipped or repeated.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import proto as pb
from ._errors import ConfigurationError, DeadlineExceeded, ServiceUnavailable, TooManyRequests
from ._retry import RetryPolicy

if TYPE_CHECKING:  # the message modules load on first use (``pb.StreamInputsRequest``)
    from .proto import Input, StreamInputsRequest, UserAppIDSet

_TRANSIENT = (ServiceUnavailable, DeadlineExceeded, TooManyRequests)
_OUTAGE_BACKOFF = RetryPolicy(max_attempts=1_000_000, initial_backoff=0.05, max_backoff=2.0)


class _StreamState:
    """The pure part: the cursor, the next page request, and when the stream is over."""

    def __init__(
        self,
        per_page: int,
        cursor: str,
        order_by_id: bool,
        descending: bool,
        user_app_id: UserAppIDSet | None,
        outage_timeout: float,
    ) -> None:
        if not 1 <= per_page <= 1000:
            raise ConfigurationError(f"per_page must be between 1 and 1000, got {per_page}")
        if outage_timeout < 0:
            raise ConfigurationError(f"outage_timeout must be >= 0, got {outage_timeout}")
        self.per_page = per_page
        self.cursor = cursor
        self.order_by_id = order_by_id
        self.descending = descending
        self.user_app_id = user_app_id
        self.outage_timeout = outage_timeout
        self.pages = 0
        self.done = False

    def request(self) -> StreamInputsRequest:
        req = pb.StreamInputsRequest(
            per_page=self.per_page, last_id=self.cursor, order_by_id=self.order_by_id, descending=self.descending
        )
        if self.user_app_id is not None:
            req.user_app_id.CopyFrom(self.user_app_id)
        return req

    def received(self, n: int) -> None:
        self.pages += 1
        if n < self.per_page:
            self.done = True


class InputStream:
    """Iterate over every input of an app; see the module docstring. Created by ``Client.stream_inputs``."""

    def __init__(self, call: Callable[[str, Any], Any], *, per_page: int = 1000, cursor: str = "", order_by_id: bool = False,
                 descending: bool = False, user_app_id: UserAppIDSet | None = None, outage_timeout: float = 300.0) -> None:
        self._call = call
        self._state = _StreamState(per_page, cursor, order_by_id, descending, user_app_id, outage_timeout)

    @property
    def cursor(self) -> str:
        """The id of the last input yielded: pass it as ``cursor=`` to resume right after it."""
        return self._state.cursor

    def _fetch(self) -> Any:
        deadline = time.monotonic() + self._state.outage_timeout
        waits = _OUTAGE_BACKOFF.backoffs()
        while True:
            try:
                return self._call("StreamInputs", self._state.request())
            except _TRANSIENT:
                delay = next(waits)
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)

    def __iter__(self) -> Iterator[Input]:
        state = self._state
        while not state.done:
            response = self._fetch()
            state.received(len(response.inputs))
            for item in response.inputs:
                state.cursor = item.id
                yield item


class AsyncInputStream:
    """The ``asyncio`` twin of :class:`InputStream` (``async for input in client.stream_inputs()``)."""

    def __init__(self, call: Callable[[str, Any], Awaitable[Any]], *, per_page: int = 1000, cursor: str = "",
                 order_by_id: bool = False, descending: bool = False, user_app_id: UserAppIDSet | None = None,
                 outage_timeout: float = 300.0) -> None:
        self._call = call
        self._state = _StreamState(per_page, cursor, order_by_id, descending, user_app_id, outage_timeout)

    @property
    def cursor(self) -> str:
        return self._state.cursor

    async def _fetch(self) -> Any:
        deadline = time.monotonic() + self._state.outage_timeout
        waits = _OUTAGE_BACKOFF.backoffs()
        while True:
            try:
                return await self._call("StreamInputs", self._state.request())
            except _TRANSIENT:
                delay = next(waits)
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)

    async def __aiter__(self) -> AsyncIterator[Input]:
        state = self._state
        while not state.done:
            response = await self._fetch()
            state.received(len(response.inputs))
            for item in response.inputs:
                state.cursor = item.id
                yield item

