"""Fixtures for the call-layer tests: the emulator's streaming stand-in model on both transports.

Every test here runs over gRPC and HTTP/JSON (``transport`` is parametrized), against a real
emulator on 127.0.0.1: the ``text-generation`` model (``text-to-text``) streams its reply one
word per message, with an optional pause between messages, and the emulator's faults refuse or
cut streams on demand and record how each stream ended (its stream log).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import struct_pb2

from clarifai_grpc_client import AsyncClient, Client, RetryPolicy
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import Data, Input, Model, OutputInfo, PostModelOutputsRequest, Text

KEY = "calls-test-key"
FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.02)
PROMPT = "one two three four"
CHUNKS = ["four", " three", " two", " one"]


def base_for(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


def make_client(emu: Emulator, transport: str, **kw: Any) -> Client:
    kw.setdefault("retry", FAST)
    kw.setdefault("app_id", "main")
    return Client(transport, base_for(emu, transport), pat=KEY, environ={}, **kw)  # type: ignore[arg-type]


def make_async_client(emu: Emulator, transport: str, **kw: Any) -> AsyncClient:
    """Build inside the running event loop (``grpc.aio`` channels bind to it)."""
    kw.setdefault("retry", FAST)
    kw.setdefault("app_id", "main")
    return AsyncClient(transport, base_for(emu, transport), pat=KEY, environ={}, **kw)  # type: ignore[arg-type]


def generate(prompt: str = PROMPT, delay: float | None = None, model_id: str = "text-generation") -> PostModelOutputsRequest:
    """A request to the stand-in generative model, pausing ``delay`` seconds between chunks."""
    model = Model()
    if delay is not None:
        params = struct_pb2.Struct()
        params.update({"chunk_delay": delay})
        model = Model(output_info=OutputInfo(params=params))
    return PostModelOutputsRequest(model_id=model_id, inputs=[Input(data=Data(text=Text(raw=prompt)))], model=model)


def texts(messages: Any) -> list[str]:
    return [m.outputs[0].data.text.raw for m in messages]


@pytest.fixture(params=["grpc", "json"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e
