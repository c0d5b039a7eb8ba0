"""Fixtures for the emulator tests: a fresh emulator per test, and one API helper per transport.

``api`` is parametrized over ``grpc`` (the raw generated stub), ``http`` (httpx with
snake_case JSON bodies) and ``http-camel`` (the same bodies in lowerCamelCase), so a behaviour
test written once runs against every face of the emulator. The HTTP helpers build the route
with the library's pure transcoding rules and decode the JSON answer into the response message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message

from clarifai_grpc_client import _json_format, _transcoding
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.dispatch import V2
from clarifai_grpc_client.proto import V2Stub
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2
from clarifai_grpc_client._protobuf_compat import is_repeated

KEY = "test-key"
SC = status_code_pb2


@dataclass
class Result:
    """A response message, and the HTTP status when it came over HTTP."""

    msg: Any
    http_status: int | None = None

    @property
    def code(self) -> int:
        return int(self.msg.status.code)

    @property
    def code_name(self) -> str:
        return status_code_pb2.StatusCode.Name(self.msg.status.code)


def camelize(msg: Message, node: dict[str, Any]) -> dict[str, Any]:
    """``node`` (the snake_case JSON of ``msg``) with every field name in lowerCamelCase (Struct keys kept)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        fd = msg.DESCRIPTOR.fields_by_name.get(key)
        if fd is None:
            out[key] = value
            continue
        mt = fd.message_type
        if mt is not None and not mt.full_name.startswith("google.protobuf.") and not mt.GetOptions().map_entry:
            if is_repeated(fd):
                value = [camelize(sub, v) for sub, v in zip(getattr(msg, key), value)]
            else:
                value = camelize(getattr(msg, key), value)
        out[fd.json_name] = value
    return out


class GrpcApi:
    name = "grpc"

    def __init__(self, emu: Emulator, key: str | None = KEY) -> None:
        self.channel = grpc.insecure_channel(emu.grpc_target)
        self.stub = V2Stub(self.channel)
        self.metadata = (("authorization", f"Key {key}"),) if key else ()

    def call(self, rpc: str, request: Message) -> Result:
        return Result(getattr(self.stub, rpc)(request, metadata=self.metadata, timeout=30))

    def close(self) -> None:
        self.channel.close()


class HttpApi:
    def __init__(self, emu: Emulator, key: str | None = KEY, camel: bool = False) -> None:
        self.name = "http-camel" if camel else "http"
        self.camel = camel
        headers = {"Authorization": f"Key {key}"} if key else {}
        self.client = httpx.Client(base_url=emu.http_base, headers=headers, timeout=30)
        self.rules = _transcoding.service_rules(V2)

    def call(self, rpc: str, request: Message) -> Result:
        rule = self.rules[f"/clarifai.api.V2/{rpc}"]
        req = _transcoding.encode_request(rule, request)
        body: Any = req.body
        if body is not None and self.camel:
            binding, _ = _transcoding.choose_binding(rule, request)
            body = camelize(request if binding.body == "*" else getattr(request, binding.body), body)
        resp = self.client.request(req.verb, req.url_path(), json=body)
        out = message_factory.GetMessageClass(rule.output_type)()
        _json_format.parse_json(resp.content, out)
        return Result(out, resp.status_code)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for a whole module, for tests that each make resources of their own."""
    with Emulator(keys=(KEY,)) as e:
        yield e


@pytest.fixture(scope="module", params=["grpc", "http"])
def module_api(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[GrpcApi | HttpApi]:
    """The raw API over gRPC, then over the gateway, on the module's emulator."""
    helper: GrpcApi | HttpApi = GrpcApi(emulator) if request.param == "grpc" else HttpApi(emulator)
    yield helper
    helper.close()


@pytest.fixture(params=["grpc", "http", "http-camel"])
def api(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[GrpcApi | HttpApi]:
    helper: GrpcApi | HttpApi = GrpcApi(emu) if request.param == "grpc" else HttpApi(emu, camel=request.param == "http-camel")
    yield helper
    helper.close()


@pytest.fixture
def grpc_api(emu: Emulator) -> Iterator[GrpcApi]:
    helper = GrpcApi(emu)
    yield helper
    helper.close()


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.http_base, headers={"Authorization": f"Key {KEY}"}, timeout=30) as client:
        yield client


@pytest.fixture
def thread_baseline() -> Iterator[set[threading.Thread]]:
    yield set(threading.enumerate())


@pytest.fixture(params=["grpc", "http"])
def streams(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[Any]:
    """Raw streaming calls (see ``stream_helpers``) over gRPC, then over the gateway's newline-delimited JSON."""
    from .stream_helpers import GrpcStreams, HttpStreams

    helper = GrpcStreams(emu, KEY) if request.param == "grpc" else HttpStreams(emu, KEY)
    yield helper
    helper.close()
