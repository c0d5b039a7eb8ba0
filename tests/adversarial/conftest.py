"""Fixtures for the bad-input suite: one emulator per module on 127.0.0.1, clients for both transports.

Every case feeds one malformed or hostile input and asserts a typed error (or an exit code, or
an HTTP status with a Clarifai status) that names what was wrong. The cases change nothing the
next case depends on, so a module shares one emulator.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator import Emulator

KEY = "adversarial-key"
SECRET = "sk-adversarial-0123456789"


def base_for(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e


@pytest.fixture(params=["grpc", "json"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(emu: Emulator, transport: str) -> Iterator[Client]:
    with Client(transport, base_for(emu, transport), pat=KEY, app_id="main", environ={}) as c:  # type: ignore[arg-type]
        yield c
