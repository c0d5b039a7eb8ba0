"""Page iterators (``iter_pages``/``iter_items``, sync and async) against the emulator, over both transports.

250 inputs are seeded once (ids ``p-000`` .. ``p-249``, every even one tagged ``{"group": "even"}``).
ListInputs lists newest first; a filter-only search returns its hits newest first too. Calls are
counted with an observer, so an extra (empty) page request would show.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clarifai_grpc_client import BadRequest, ConfigurationError
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import (
    Data,
    Filter,
    GetInputRequest,
    Input,
    ListInputsRequest,
    Pagination,
    PostInputsSearchesRequest,
    Query,
    Search,
    Struct,
    Text,
)

from .conftest import KEY, CallLog, make_async_client, make_client, seed

N = 250
IDS = [f"p-{i:03d}" for i in range(N)]
NEWEST_FIRST = IDS[::-1]
EVEN_NEWEST_FIRST = [i for i in NEWEST_FIRST if int(i[2:]) % 2 == 0]


def group(name: str) -> Struct:
    s = Struct()
    s.update({"group": name})
    return s


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        seed(e, [Input(id=i, data=Data(text=Text(raw=f"text {i}"), metadata=group("even" if n % 2 == 0 else "odd")))
                 for n, i in enumerate(IDS)])
        yield e


def even_search(**kw: object) -> PostInputsSearchesRequest:
    query = Query(filters=[Filter(input=Input(data=Data(metadata=group("even"))))])
    return PostInputsSearchesRequest(searches=[Search(query=query)], **kw)  # type: ignore[arg-type]


def test_items_across_pages_without_an_extra_call(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        items = list(client.iter_items("ListInputs", ListInputsRequest(), per_page=100))
    assert [i.id for i in items] == NEWEST_FIRST
    assert log.calls("ListInputs") == 3  # 100 + 100 + 50: the short page ends it, no empty 4th call


def test_pages_are_the_responses(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        pages = list(client.iter_pages("ListInputs", ListInputsRequest(), per_page=100))
    assert [len(p.inputs) for p in pages] == [100, 100, 50]
    assert all(p.status.code == 10000 for p in pages)
    assert [i.id for p in pages for i in p.inputs] == NEWEST_FIRST
    assert log.calls("ListInputs") == 3


def test_a_full_last_page_needs_one_more_call(emu: Emulator, transport: str) -> None:
    """250 = 5 x 50: the iterator cannot know the 5th page is the last, so it asks once more (and gets nothing)."""
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        pages = list(client.iter_pages("ListInputs", ListInputsRequest(), per_page=50))
    assert [len(p.inputs) for p in pages] == [50] * 5 + [0]
    assert log.calls("ListInputs") == 6


@pytest.mark.parametrize(
    ("per_page", "limit", "calls"),
    [(100, 130, 2), (50, 130, 3), (100, 5, 1), (125, 250, 2), (100, 200, 2), (100, 1000, 3), (100, 0, 0)],
)
def test_limit_is_respected(emu: Emulator, transport: str, per_page: int, limit: int, calls: int) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        items = list(client.iter_items("ListInputs", ListInputsRequest(), per_page=per_page, limit=limit))
    assert [i.id for i in items] == NEWEST_FIRST[:limit]
    assert log.calls("ListInputs") == calls


def test_starts_at_the_requests_page(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        items = list(client.iter_items("ListInputs", ListInputsRequest(page=2), per_page=100))
    assert [i.id for i in items] == NEWEST_FIRST[100:]
    assert log.calls("ListInputs") == 2


def test_is_lazy(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        it = client.iter_items("ListInputs", ListInputsRequest(), per_page=100)
        assert log.calls("ListInputs") == 0
        first = [next(it).id for _ in range(100)]
        assert log.calls("ListInputs") == 1
        assert next(it).id == NEWEST_FIRST[100] and first == NEWEST_FIRST[:100]
        assert log.calls("ListInputs") == 2


def test_search_pagination_uses_the_pagination_message(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        hits = list(client.iter_items("PostInputsSearches", even_search(), per_page=50))
        assert [h.input.id for h in hits] == EVEN_NEWEST_FIRST  # 125 hits: 50 + 50 + 25
        assert log.calls("PostInputsSearches") == 3
        limited = list(client.iter_items("PostInputsSearches", even_search(), per_page=50, limit=60))
        assert [h.input.id for h in limited] == EVEN_NEWEST_FIRST[:60]
        assert log.calls("PostInputsSearches") == 5
        # The search's own pagination.page is where the iterator starts.
        later = list(client.iter_items("PostInputsSearches", even_search(pagination=Pagination(page=3, per_page=7)),
                                       per_page=50))
        assert [h.input.id for h in later] == EVEN_NEWEST_FIRST[100:]


def test_a_failing_page_raises_the_typed_error(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        it = client.iter_items("PostInputsSearches", PostInputsSearchesRequest(), per_page=10)  # no search: refused
        with pytest.raises(BadRequest) as err:
            next(it)
    assert err.value.code_name == "SEARCH_INVALID_REQUEST"


def test_bad_page_sizes_are_refused_before_any_call(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        for size in (0, -1, 1001):
            with pytest.raises(ConfigurationError, match=f"per_page must be between 1 and 1000, got {size}"):
                next(client.iter_items("ListInputs", ListInputsRequest(), per_page=size))
        with pytest.raises(ConfigurationError):
            next(client.iter_items("ListInputs", ListInputsRequest(), limit=-1))
        with pytest.raises(ConfigurationError):
            next(client.iter_items("GetInput", GetInputRequest(input_id="p-001")))  # not a paged request
    assert log.attempts() == []


async def test_async_items_across_pages_and_limit(emu: Emulator, transport: str) -> None:
    log = CallLog()
    async with make_async_client(emu, transport, observers=[log]) as client:
        items = [i.id async for i in client.iter_items("ListInputs", ListInputsRequest(), per_page=100)]
        assert items == NEWEST_FIRST
        assert log.calls("ListInputs") == 3
        limited = [i.id async for i in client.iter_items("ListInputs", ListInputsRequest(), per_page=50, limit=130)]
        assert limited == NEWEST_FIRST[:130]
        assert log.calls("ListInputs") == 6
        pages = [len(p.inputs) async for p in client.iter_pages("ListInputs", ListInputsRequest(), per_page=125)]
        assert pages == [125, 125, 0]


async def test_async_bad_page_sizes_are_refused_before_any_call(emu: Emulator, transport: str) -> None:
    log = CallLog()
    async with make_async_client(emu, transport, observers=[log]) as client:
        for size in (0, -1, 1001):
            with pytest.raises(ConfigurationError, match=f"per_page must be between 1 and 1000, got {size}"):
                await client.iter_items("ListInputs", ListInputsRequest(), per_page=size).__anext__()
    assert log.attempts() == []


async def test_async_search_pagination(emu: Emulator, transport: str) -> None:
    log = CallLog()
    async with make_async_client(emu, transport, observers=[log]) as client:
        hits = [h.input.id async for h in client.iter_items("PostInputsSearches", even_search(), per_page=50)]
        assert hits == EVEN_NEWEST_FIRST
        assert log.calls("PostInputsSearches") == 3
        with pytest.raises(BadRequest):
            async for _ in client.iter_items("PostInputsSearches", PostInputsSearchesRequest(), per_page=10):
                pass
