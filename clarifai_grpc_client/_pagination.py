"""Page iterators for the list and search RPCs, sync and async, over a client's checked calls.

List RPCs page with ``page``/``per_page``; searches with the ``pagination`` sub-message. A page
shorter than ``per_page`` is the last one, so no empty call is made to find the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from google.protobuf.message import Message

from ._errors import ConfigurationError
from ._protobuf_compat import is_repeated

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 128

Call = Callable[[str, Message], Any]
AsyncCall = Callable[[str, Message], Awaitable[Any]]


def items_field(response: Message) -> str:
    """The name of the response's repeated message field that holds the page's items."""
    for fd in response.DESCRIPTOR.fields:
        if is_repeated(fd) and fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            return fd.name
    raise ConfigurationError(f"{response.DESCRIPTOR.full_name} has no repeated items to page through")


def page_request(request: Message, page: int, per_page: int) -> Message:
    """A copy of ``request`` asking for one page (``pagination`` for searches, else page/per_page)."""
    fields = request.DESCRIPTOR.fields_by_name
    copy = type(request)()
    copy.CopyFrom(request)
    if "pagination" in fields:
        copy.pagination.page = page  # type: ignore[attr-defined]
        copy.pagination.per_page = per_page  # type: ignore[attr-defined]
    elif "page" in fields and "per_page" in fields:
        copy.page = page  # type: ignore[attr-defined]
        copy.per_page = per_page  # type: ignore[attr-defined]
    else:
        raise ConfigurationError(f"{request.DESCRIPTOR.full_name} is not a paged request (no page/per_page or pagination)")
    return copy


def _start(request: Message, per_page: int | None, limit: int | None) -> tuple[int, int]:
    if limit is not None and limit < 0:
        raise ConfigurationError(f"limit must be >= 0, got {limit}")
    size = DEFAULT_PER_PAGE if per_page is None else per_page
    if not 1 <= size <= MAX_PER_PAGE:
        raise ConfigurationError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {size}")
    if limit is not None:
        size = max(1, min(size, limit))
    fields = request.DESCRIPTOR.fields_by_name
    first = request.pagination.page if "pagination" in fields else getattr(request, "page", 0)  # type: ignore[attr-defined]
    return max(1, first), size


def iter_pages(call: Call, method: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
    """Responses page by page until a short page, or until ``limit`` items have been seen."""
    page, size = _start(request, per_page, limit)
    seen = 0
    while limit is None or seen < limit:
        response = call(method, page_request(request, page, size))
        n = len(getattr(response, items_field(response)))
        seen += n
        yield response
        if n < size:
            return
        page += 1


def iter_items(call: Call, method: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
    """Every item of every page, at most ``limit`` of them."""
    yielded = 0
    for response in iter_pages(call, method, request, per_page=per_page, limit=limit):
        for item in getattr(response, items_field(response)):
            if limit is not None and yielded >= limit:
                return
            yielded += 1
            yield item


async def aiter_pages(
    call: AsyncCall, method: str, request: Message, *, per_page: int | None = None, limit: int | None = None
) -> AsyncIterator[Any]:
    """The ``asyncio`` twin of :func:`iter_pages`."""
    page, size = _start(request, per_page, limit)
    seen = 0
    while limit is None or seen < limit:
        response = await call(method, page_request(request, page, size))
        n = len(getattr(response, items_field(response)))
        seen += n
        yield response
        if n < size:
            return
        page += 1


async def aiter_items(
    call: AsyncCall, method: str, request: Message, *, per_page: int | None = None, limit: int | None = None
) -> AsyncIterator[Any]:
    """The ``asyncio`` twin of :func:`iter_items`."""
    yielded = 0
    async for response in aiter_pages(call, method, request, per_page=per_page, limit=limit):
        for item in getattr(response, items_field(response)):
            if limit is not None and yielded >= limit:
                return
            yielded += 1
            yield item
