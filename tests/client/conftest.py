"""Fixtures for the whole-app tests: a real emulator on 127.0.0.1 and clients for both transports.

Every behaviour is checked over gRPC and HTTP/JSON (``transport`` is parametrized), through the
library's own ``Client``/``AsyncClient``. Data is seeded through the raw generated stub (batches
of 128 ``PostInputs``), and what the emulator holds is read back from its storage, so neither the
seeding nor the check depends on the code under test. ``CallLog`` counts calls and attempts with
the client's ``observers=[...]`` hook.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from clarifai_grpc_client import AsyncClient, CallEvent, Client, RetryPolicy
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.emulator.storage import app_key
from clarifai_grpc_client.proto import App, Data, Input, PostAppsRequest, PostInputsRequest, Text, UserAppIDSet, V2Stub
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

KEY = "client-test-key"
APP = app_key(DEFAULT_USER_ID, DEFAULT_APP_ID)
FAST_RETRY = RetryPolicy(initial_backoff=0.001, max_backoff=0.05)
SC = status_code_pb2


@dataclass
class CallLog:
    """An observer: every attempt the client reports, with the time it was reported."""

    events: list[tuple[float, CallEvent]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: CallEvent) -> None:
        with self.lock:
            self.events.append((time.monotonic(), event))

    def attempts(self, method: str | None = None) -> list[CallEvent]:
        with self.lock:
            return [e for _, e in self.events if method is None or e.method == method]

    def calls(self, method: str) -> int:
        """Calls of ``method`` (first attempts; a retried call counts once)."""
        return sum(1 for e in self.attempts(method) if e.attempt == 1)

    def failed_between(self, start: float, end: float) -> list[CallEvent]:
        with self.lock:
            return [e for t, e in self.events if start <= t <= end and e.status_code != "SUCCESS"]

    def kinds(self) -> collections.Counter[tuple[str, str]]:
        return collections.Counter((e.grpc_code, e.status_code) for e in self.attempts())


def base_for(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


def make_client(emu: Emulator, transport: str, *, retry: RetryPolicy = FAST_RETRY, observers: Sequence[Any] = (),
                **kwargs: Any) -> Client:
    kwargs.setdefault("app_id", DEFAULT_APP_ID)
    return Client(transport, base_for(emu, transport), pat=KEY, environ={}, retry=retry,
                  observers=observers, **kwargs)


def make_async_client(emu: Emulator, transport: str, *, retry: RetryPolicy = FAST_RETRY, observers: Sequence[Any] = (),
                      **kwargs: Any) -> AsyncClient:
    """Build inside the running event loop (``grpc.aio`` channels bind to it)."""
    kwargs.setdefault("app_id", DEFAULT_APP_ID)
    return AsyncClient(transport, base_for(emu, transport), pat=KEY, environ={}, retry=retry,
                       observers=observers, **kwargs)


def text_inputs(ids: Iterable[str], **data: Any) -> list[Input]:
    return [Input(id=i, data=Data(text=Text(raw=f"text of {i}"), **data)) for i in ids]


def seed(emu: Emulator, inputs: Sequence[Input], app_id: str = DEFAULT_APP_ID) -> None:
    """Post ``inputs`` in order, 128 a request, through the raw stub on a plain channel (creating the app if needed)."""
    metadata = (("authorization", f"Key {KEY}"),)
    channel = grpc.insecure_channel(emu.grpc_target)
    try:
        stub = V2Stub(channel)
        if app_id != DEFAULT_APP_ID:
            created = stub.PostApps(PostAppsRequest(apps=[App(id=app_id)]), metadata=metadata, timeout=60)
            assert created.status.code == SC.SUCCESS, created.status
        for start in range(0, len(inputs), 128):
            resp = stub.PostInputs(PostInputsRequest(user_app_id=UserAppIDSet(app_id=app_id), inputs=inputs[start:start + 128]),
                                   metadata=metadata, timeout=60)
            assert resp.status.code == SC.SUCCESS, resp.status
    finally:
        channel.close()


def stored_inputs(emu: Emulator, app_id: str = DEFAULT_APP_ID) -> list[Input]:
    """Every input the emulator holds, oldest first, read from its storage."""
    with emu.storage.read() as tx:
        found = tx.stream_inputs(app_key(DEFAULT_USER_ID, app_id), limit=-1)
    assert found is not None
    return found


def stored_ids(emu: Emulator, app_id: str = DEFAULT_APP_ID) -> list[str]:
    return [i.id for i in stored_inputs(emu, app_id)]


@pytest.fixture(params=["grpc", "json"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fresh emulator (temporary database) per test."""
    with Emulator(keys=(KEY,)) as e:
        yield e
