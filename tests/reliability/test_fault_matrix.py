"""SIGKILL the emulator mid-stream and mid-upload, restart it on the same database, over both transports.

What must hold whatever the moment of the kill:
- ``stream_inputs`` yields every stored input exactly once, in order, riding out the restart;
- an upload stores every item at most once, and its report is true: an input it calls failed is
  absent, one it calls uploaded or already present is stored; unconfirmed ones may be either;
- a rerun of the same upload stores the rest, each once, and reports the earlier ones as
  already present.
A patient client (the default policy) rides the restart out; an impatient one (two attempts, no
waiting for the connection) gives up during the outage, so its report has to say what it knows.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import pytest

from clarifai_grpc_client import AsyncClient, Client, RetryPolicy, UploadReport
from clarifai_grpc_client._upload import to_input
from clarifai_grpc_client.proto import Data, Input, Text

from .conftest import APP_ID, KEY, EmulatorProcess

UPLOAD_ITEMS = 1500
STREAM_INPUTS = 3000
PATIENT = RetryPolicy(initial_backoff=0.02, max_backoff=0.2)
IMPATIENT = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02, wait_for_connection=False)


def client_for(emu: EmulatorProcess, transport: str, retry: RetryPolicy, timeout: float = 30.0) -> Client:
    return Client(transport, emu.base(transport), pat=KEY, app_id=APP_ID, environ={}, retry=retry,  # type: ignore[arg-type]
                  timeout=timeout)


def texts(n: int) -> list[str]:
    return [f"fault matrix item {i:05d}" for i in range(n)]


def check_truthful(report: UploadReport, stored_ids: set[str], all_ids: set[str]) -> None:
    reported = report.succeeded + report.already_present + list(report.failed) + list(report.unconfirmed)
    assert Counter(reported).most_common(1)[0][1] == 1, "an id reported twice"
    assert set(reported) == all_ids, "every item is reported"
    assert not set(report.failed) & stored_ids, "an input reported failed is stored"
    assert set(report.succeeded) | set(report.already_present) <= stored_ids, "an input reported stored is absent"
    assert all(f.code_name not in ("", "ZERO", "SUCCESS") for f in [*report.failed.values(), *report.unconfirmed.values()])


CASES = {
    # name: (retry policy, call timeout, seconds the emulator stays down, async client)
    "patient": (PATIENT, 30.0, 0.3, False),
    "patient-async": (PATIENT, 30.0, 0.3, True),
    "impatient": (IMPATIENT, 5.0, 1.5, False),
    "impatient-brief-outage": (IMPATIENT, 5.0, 0.2, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kill_mid_upload_then_rerun(emulator: EmulatorProcess, transport: str, case: str) -> None:
    retry, timeout, down_for, use_async = CASES[case]
    items: list[Any] = texts(UPLOAD_ITEMS)
    killed = threading.Event()
    restarts: list[threading.Thread] = []
    done_at_kill: list[int] = []

    def progress(report: UploadReport) -> None:
        if report.done >= 300 and not killed.is_set():  # a few batches in: the rest are in flight or queued
            killed.set()
            done_at_kill.append(report.done)
            restarts.append(emulator.restart_later(down_for=down_for))

    if use_async:
        async def run() -> UploadReport:
            async with AsyncClient(transport, emulator.base(transport), pat=KEY, app_id=APP_ID,  # type: ignore[arg-type]
                                   environ={}, retry=retry,
                                   timeout=timeout) as client:
                return await client.upload_inputs(items, max_inputs=50, concurrency=4, progress=progress)

        first = asyncio.run(run())
    else:
        with client_for(emulator, transport, retry, timeout) as client:
            first = client.upload_inputs(items, max_inputs=50, concurrency=4, progress=progress)
    for thread in restarts:
        thread.join(timeout=60)
    assert emulator.kills == 1 and done_at_kill[0] < UPLOAD_ITEMS

    all_ids = {to_input(t).id for t in items}
    stored = emulator.stored()
    stored_ids = {i.id for i in stored}
    assert len(stored) == len(stored_ids), "an input stored twice"
    check_truthful(first, stored_ids, all_ids)
    if retry is PATIENT:
        assert first.ok, first  # a short restart costs time, not failures
    elif down_for > 1:
        assert not first.ok, "the impatient client gave up during the outage"

    with client_for(emulator, transport, PATIENT) as client:
        rerun = client.upload_inputs(items, max_inputs=50, concurrency=4)
    assert rerun.ok, rerun
    assert set(rerun.already_present) == stored_ids
    assert set(rerun.succeeded) == all_ids - stored_ids
    final = emulator.stored()
    assert len(final) == UPLOAD_ITEMS == len({i.id for i in final})
    assert sorted(i.data.text.raw for i in final) == sorted(items)  # each item exactly once


def test_kill_mid_stream(emulator: EmulatorProcess, transport: str) -> None:
    seeded = [Input(id=f"s-{i:05d}", data=Data(text=Text(raw=f"stream {i}"))) for i in range(STREAM_INPUTS)]
    emulator.seed(seeded)
    got: list[str] = []
    restart: threading.Thread | None = None
    with client_for(emulator, transport, PATIENT) as client:
        stream = client.stream_inputs(per_page=250, outage_timeout=60)
        for inp in stream:
            got.append(inp.id)
            if len(got) in (1100, 2300):  # twice, each inside a page: the next page meets a dead server
                if restart is not None:
                    restart.join(timeout=60)
                restart = emulator.restart_later(down_for=0.3)
    assert restart is not None
    restart.join(timeout=60)
    assert emulator.kills == 2
    assert got == [i.id for i in seeded]  # every input exactly once, in order


def test_kill_mid_stream_async(emulator: EmulatorProcess, transport: str) -> None:
    seeded = [Input(id=f"a-{i:05d}", data=Data(text=Text(raw=f"async stream {i}"))) for i in range(STREAM_INPUTS)]
    emulator.seed(seeded)
    restarts: list[threading.Thread] = []

    async def run() -> list[str]:
        got: list[str] = []
        async with AsyncClient(transport, emulator.base(transport), pat=KEY, app_id=APP_ID,  # type: ignore[arg-type]
                               environ={}, retry=PATIENT) as client:
            async for inp in client.stream_inputs(per_page=250, outage_timeout=60):
                got.append(inp.id)
                if len(got) == 1600:
                    restarts.append(emulator.restart_later(down_for=0.3))
        return got

    got = asyncio.run(run())
    for thread in restarts:
        thread.join(timeout=60)
    assert emulator.kills == 1
    assert got == [i.id for i in seeded]
