"""A database another process keeps locked past the busy timeout answers a retryable status, not INTERNAL.

Another ``sqlite3`` connection (standing in for another process) holds the emulator's database
with ``BEGIN EXCLUSIVE``; the emulator runs with a short busy timeout so the wait is brief.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import httpx
import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client._status import RETRYABLE_STATUS_CODES
from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SC, GrpcApi

BUSY_TIMEOUT = 0.2


@pytest.fixture
def busy_emu(tmp_path: object) -> Iterator[Emulator]:
    with Emulator(db_path=f"{tmp_path}/emu.sqlite3", keys=(KEY,), busy_timeout=BUSY_TIMEOUT) as emu:
        yield emu


def hold_lock(emu: Emulator) -> sqlite3.Connection:
    assert emu.db_path is not None
    other = sqlite3.connect(emu.db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    return other


def new_input(i: str) -> p.PostInputsRequest:
    return p.PostInputsRequest(inputs=[p.Input(id=i, data=p.Data(text=p.Text(raw="x")))])


def test_a_locked_database_is_a_retryable_answer_over_grpc(busy_emu: Emulator) -> None:
    api = GrpcApi(busy_emu)
    other = hold_lock(busy_emu)
    try:
        res = api.call("PostInputs", new_input("b1"))
        assert res.code == SC.RPC_SERVER_UNAVAILABLE and res.code in RETRYABLE_STATUS_CODES
        assert "locked" in res.msg.status.details and "nothing was done" in res.msg.status.details
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert api.call("PostInputs", new_input("b1")).code == SC.SUCCESS  # the retry writes it, once
    assert api.call("GetInput", p.GetInputRequest(input_id="b1")).code == SC.SUCCESS
    api.close()


def test_a_locked_database_is_503_over_http(busy_emu: Emulator) -> None:
    headers = {"Authorization": f"Key {KEY}"}
    body = {"inputs": [{"id": "b2", "data": {"text": {"raw": "x"}}}]}
    other = hold_lock(busy_emu)
    try:
        r = httpx.post(busy_emu.http_base + "/v2/inputs", json=body, headers=headers)
        assert r.status_code == 503 and r.json()["status"]["code"] == SC.RPC_SERVER_UNAVAILABLE
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert httpx.post(busy_emu.http_base + "/v2/inputs", json=body, headers=headers).status_code == 200
    listed = httpx.get(busy_emu.http_base + "/v2/inputs", headers=headers).json()["inputs"]
    assert [i["id"] for i in listed] == ["b2"]


@pytest.mark.parametrize("transport", ["grpc", "json"])
def test_the_client_rides_out_a_lock_that_is_released(busy_emu: Emulator, transport: str) -> None:
    from clarifai_grpc_client import Client, RetryPolicy

    base = f"grpc://{busy_emu.grpc_target}" if transport == "grpc" else busy_emu.http_base
    client = Client(transport, base, pat=KEY, app_id="main", environ={},  # type: ignore[arg-type]
                    retry=RetryPolicy(max_attempts=8, initial_backoff=0.2, max_backoff=0.4))
    other = hold_lock(busy_emu)
    released = threading.Timer(0.6, lambda: (other.execute("ROLLBACK"), other.close()))
    released.start()
    try:
        client.PostInputs(new_input("b3"))
    finally:
        released.join()
        client.close()
    api = GrpcApi(busy_emu)
    assert api.call("GetInput", p.GetInputRequest(input_id="b3")).code == SC.SUCCESS
    api.close()
