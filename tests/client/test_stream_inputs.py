"""The ``StreamInputs`` iterator (``client.stream_inputs``), sync and async, over both transports.

One emulator per module on a database file seeded once with 10,000 inputs. Their ids are a
shuffle of ``s-00000`` .. ``s-09999``, so creation order, id order and their reverses all differ.
Faults are deterministic per seed: the seeds used make the first few StreamInputs calls meet each
kind of fault, whatever the timing. The restart runs ``emu.restart()`` on another thread, on the
same database, and holds the server down for a moment so that the client surely meets the outage.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarifai_grpc_client import ConfigurationError, NotFound, ServiceUnavailable
from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, CallLog, make_async_client, make_client, seed, stored_ids, text_inputs

N = 10_000
_numbers = list(range(N))
random.Random(20240611).shuffle(_numbers)
IDS = [f"s-{k:05d}" for k in _numbers]  # creation order
# A second app, smaller, for the order and resume tests (cheaper than streaming 10,000 inputs each time).
SMALL = "small"
M = 1_500
SMALL_IDS = [f"m-{k:04d}" for k in random.Random(7).sample(range(M), M)]
SMALL_ORDERS = {
    (False, False): SMALL_IDS,
    (False, True): SMALL_IDS[::-1],
    (True, False): sorted(SMALL_IDS),
    (True, True): sorted(SMALL_IDS, reverse=True),
}
FAULT_SEED = 4  # with the rates below, the first 8 StreamInputs calls meet every kind of fault


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    db: Path = tmp_path_factory.mktemp("stream") / "emulator.sqlite3"
    e = Emulator(db_path=db, keys=(KEY,)).start()
    try:
        seed(e, text_inputs(IDS))
        seed(e, text_inputs(SMALL_IDS), app_id=SMALL)
        assert stored_ids(e) == IDS and stored_ids(e, SMALL) == SMALL_IDS
        yield e
    finally:
        e.stop()


@pytest.fixture(autouse=True)
def healthy(emu: Emulator) -> Iterator[None]:
    """Each test starts and ends with a running emulator without faults."""
    yield
    if not emu.running:
        emu.start()
    emu.faults.clear()


def inject_faults(emu: Emulator) -> None:
    emu.faults.set("StreamInputs", unavailable=0.2, throttled=0.2, dropped=0.1)
    emu.faults.reseed(FAULT_SEED)


def assert_every_kind_injected(emu: Emulator) -> None:
    for kind in ("unavailable", "throttled", "dropped"):
        assert emu.faults.injected("StreamInputs", kind) > 0, kind


class Restarter:
    """``emu.restart()`` on another thread; the server stays down ``pause`` seconds between stop and start."""

    def __init__(self, emu: Emulator, monkeypatch: pytest.MonkeyPatch, pause: float = 0.25) -> None:
        self.emu = emu
        self.stopped = threading.Event()
        self.down = (0.0, 0.0)
        self.thread = threading.Thread(target=emu.restart, name="restarter")
        stop = emu.stop

        def slow_stop(**kwargs: bool) -> None:
            stop(**kwargs)
            start = time.monotonic()
            self.stopped.set()
            time.sleep(pause)
            self.down = (start, time.monotonic())

        monkeypatch.setattr(emu, "stop", slow_stop)

    def begin(self) -> None:
        """Start the restart and return once the server is down."""
        self.thread.start()
        assert self.stopped.wait(10)

    def join(self) -> None:
        self.thread.join(10)
        assert not self.thread.is_alive() and self.emu.running


def test_every_input_exactly_once_through_faults_and_a_restart(emu: Emulator, transport: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    inject_faults(emu)
    log = CallLog()
    restarter = Restarter(emu, monkeypatch)
    started = time.monotonic()
    got: list[str] = []
    with make_client(emu, transport, observers=[log]) as client:
        stream = client.stream_inputs(per_page=1000, outage_timeout=30)
        for inp in stream:
            got.append(inp.id)
            assert stream.cursor == inp.id
            if len(got) == 3500:
                restarter.begin()
    restarter.join()
    elapsed = time.monotonic() - started
    assert len(got) == N and len(set(got)) == N
    assert got == IDS
    assert_every_kind_injected(emu)
    assert log.failed_between(*restarter.down), "the client never met the outage"
    assert elapsed < 30, f"{elapsed:.1f} s"


async def test_async_every_input_exactly_once_through_faults_and_a_restart(emu: Emulator, transport: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    inject_faults(emu)
    log = CallLog()
    restarter = Restarter(emu, monkeypatch)
    got: list[str] = []
    async with make_async_client(emu, transport, observers=[log]) as client:
        stream = client.stream_inputs(per_page=1000, outage_timeout=30)
        async for inp in stream:
            got.append(inp.id)
            assert stream.cursor == inp.id
            if len(got) == 6500:
                await asyncio.to_thread(restarter.begin)
    await asyncio.to_thread(restarter.join)
    assert got == IDS
    assert_every_kind_injected(emu)
    assert log.failed_between(*restarter.down), "the client never met the outage"


@pytest.mark.parametrize(("order_by_id", "descending"), list(SMALL_ORDERS))
def test_order_and_resume_from_a_saved_cursor(emu: Emulator, transport: str, order_by_id: bool, descending: bool) -> None:
    expected = SMALL_ORDERS[(order_by_id, descending)]
    with make_client(emu, transport, app_id=SMALL) as client:
        assert [inp.id for inp in client.stream_inputs(per_page=200, order_by_id=order_by_id, descending=descending)] == expected
        first = client.stream_inputs(per_page=200, order_by_id=order_by_id, descending=descending)
        got: list[str] = []
        for inp in first:  # stop in the middle of a page
            got.append(inp.id)
            if len(got) == 567:
                break
        saved = first.cursor
        assert saved == got[-1] == expected[566]
        again = client.stream_inputs(per_page=200, cursor=saved, order_by_id=order_by_id, descending=descending)
        rest = [inp.id for inp in again]
    assert got + rest == expected


def test_resume_on_the_other_transport(emu: Emulator) -> None:
    with make_client(emu, "grpc", app_id=SMALL) as client:
        stream = client.stream_inputs(per_page=500)
        got = [inp.id for _, inp in zip(range(777), stream)]
        cursor = stream.cursor
    with make_client(emu, "json", app_id=SMALL) as client:
        rest = [inp.id for inp in client.stream_inputs(per_page=500, cursor=cursor)]
    assert got + rest == SMALL_IDS


async def test_async_order_and_resume(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport, app_id=SMALL) as client:
        for (order_by_id, descending), expected in SMALL_ORDERS.items():
            first = client.stream_inputs(per_page=200, order_by_id=order_by_id, descending=descending)
            got: list[str] = []
            async for inp in first:
                got.append(inp.id)
                if len(got) == 1001:
                    break
            again = client.stream_inputs(per_page=200, cursor=first.cursor, order_by_id=order_by_id, descending=descending)
            rest = [inp.id async for inp in again]
            assert got + rest == expected, (order_by_id, descending)


def test_holds_one_page_and_yields_lazily(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        stream = client.stream_inputs(per_page=1000)
        assert log.calls("StreamInputs") == 0
        it = iter(stream)
        assert next(it).id == IDS[0]
        assert log.calls("StreamInputs") == 1  # the first input arrives after one page, not the whole app
        for _ in range(999):
            next(it)
        assert log.calls("StreamInputs") == 1 and stream.cursor == IDS[999]
        assert next(it).id == IDS[1000]
        assert log.calls("StreamInputs") == 2
        rest = sum(1 for _ in it)
    assert rest == N - 1001
    # 10,000 = 10 full pages: an 11th call that finds nothing is the only way to know the end was reached.
    assert log.calls("StreamInputs") == 11


async def test_async_yields_lazily(emu: Emulator, transport: str) -> None:
    log = CallLog()
    async with make_async_client(emu, transport, observers=[log]) as client:
        stream = client.stream_inputs(per_page=100)
        it = stream.__aiter__()
        assert (await it.__anext__()).id == IDS[0]
        assert log.calls("StreamInputs") == 1
        for _ in range(99):
            await it.__anext__()
        assert log.calls("StreamInputs") == 1
        await it.__anext__()
        assert log.calls("StreamInputs") == 2
        await it.aclose()  # type: ignore[attr-defined]


def test_an_outage_longer_than_outage_timeout_raises_and_the_cursor_resumes(emu: Emulator, transport: str) -> None:
    log = CallLog()
    got: list[str] = []
    with make_client(emu, transport, observers=[log]) as client:
        stream = client.stream_inputs(per_page=1000, outage_timeout=0.5)
        with pytest.raises(ServiceUnavailable):
            for inp in stream:
                got.append(inp.id)
                if len(got) == 1500:
                    emu.stop(keep_database=True)
                    down = time.monotonic()
        waited = time.monotonic() - down
    assert got == IDS[:2000]  # the page in hand was handed out in full, then nothing more
    assert stream.cursor == IDS[1999]
    assert waited < 5 and log.calls("StreamInputs") > 3  # several tries within the outage window, then it gave up
    emu.start()
    with make_client(emu, transport) as client:
        rest = [inp.id for inp in client.stream_inputs(per_page=1000, cursor=stream.cursor, outage_timeout=30)]
    assert got + rest == IDS


def test_an_unknown_cursor_is_not_found(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        with pytest.raises(NotFound) as err:
            next(iter(client.stream_inputs(cursor="never-an-input")))
        assert err.value.code_name == "INPUT_DOES_NOT_EXIST"
        with pytest.raises(ConfigurationError):
            client.stream_inputs(per_page=0)
        with pytest.raises(ConfigurationError):
            client.stream_inputs(per_page=1001)
