"""Unary calls: one CLIENT span and one duration measurement per attempt, over both transports.

Against the scripted server, sync and ``asyncio``: span names and RPC attributes, retried
attempts as sibling spans under the caller's span, error status for failed attempts and for a
Clarifai error status, and no credential anywhere in what is exported.
"""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from clarifai_grpc_client import AsyncClient, CallEvent, Client, NotFound, RetryPolicy
from clarifai_grpc_client.proto import GetInputRequest, ListInputsRequest
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

from ..conftest import SECRET, Abort, ScriptedServer, status_response
from .conftest import Telemetry

FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.01)
LIST = "clarifai.api.V2/ListInputs"


def unavailable() -> Abort:
    return Abort(grpc.StatusCode.UNAVAILABLE, "backend restarting", http_status=503)


def check_retried_call(telemetry: Telemetry, scripted: ScriptedServer, transport: str, parent_id: int) -> None:
    first, second = telemetry.spans(LIST)
    port = int((scripted.grpc_target if transport == "grpc" else scripted.http_base).rsplit(":", 1)[1])
    for span, attempt in ((first, 1), (second, 2)):
        assert span.kind == SpanKind.CLIENT
        assert span.parent is not None and span.parent.span_id == parent_id
        attrs = dict(span.attributes or {})
        assert attrs["rpc.system"] == "grpc" and attrs["rpc.service"] == "clarifai.api.V2"
        assert attrs["rpc.method"] == "ListInputs" and attrs["clarifai.transport"] == transport
        assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == port
        assert attrs["clarifai.attempt"] == attempt
    assert first.context is not None and second.context is not None
    assert first.context.span_id != second.context.span_id
    assert (first.end_time or 0) <= (second.start_time or 0)  # the second attempt starts after the first ends
    one, two = dict(first.attributes or {}), dict(second.attributes or {})
    assert one["clarifai.will_retry"] is True and two["clarifai.will_retry"] is False
    assert one["rpc.grpc.status_code"] == grpc.StatusCode.UNAVAILABLE.value[0]
    assert "clarifai.status_code" not in one
    assert first.status.status_code == StatusCode.ERROR and first.status.description == (
        "UNAVAILABLE" if transport == "grpc" else "HTTP 503")
    if transport == "json":  # an HTML 503 from a proxy: no gRPC status in it, so the HTTP status is kept
        assert one["http.response.status_code"] == 503
    assert two["rpc.grpc.status_code"] == 0 and two["clarifai.status_code"] == "SUCCESS"
    assert second.status.status_code == StatusCode.UNSET
    points = telemetry.duration_points()
    assert sorted((p.attributes["clarifai.will_retry"], p.count) for p in points) == [(False, 1), (True, 1)]
    for point in points:
        assert point.attributes["rpc.method"] == "ListInputs" and point.attributes["rpc.service"] == "clarifai.api.V2"
        assert "clarifai.attempt" not in point.attributes and point.sum >= 0
    assert len(scripted.script.calls("ListInputs")) == 2


def test_each_attempt_is_a_span_under_the_current_span(telemetry: Telemetry, scripted: ScriptedServer,
                                                        transport: str) -> None:
    scripted.script.queue("ListInputs", unavailable())
    tracer = telemetry.tracer_provider.get_tracer("test")
    with Client(transport, scripted.base(transport), pat=SECRET, environ={}, retry=FAST,  # type: ignore[arg-type]
                observers=[telemetry.observer()]) as client:
        with tracer.start_as_current_span("caller") as parent:
            client.ListInputs(ListInputsRequest())
    check_retried_call(telemetry, scripted, transport, parent.get_span_context().span_id)


async def test_async_attempts_are_spans_under_the_current_span(telemetry: Telemetry, scripted: ScriptedServer,
                                                               transport: str) -> None:
    scripted.script.queue("ListInputs", unavailable())
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with AsyncClient(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                           retry=FAST, observers=[telemetry.observer()]) as client:
        with tracer.start_as_current_span("caller") as parent:
            await client.ListInputs(ListInputsRequest())
    check_retried_call(telemetry, scripted, transport, parent.get_span_context().span_id)


async def test_a_clarifai_error_status_is_an_error_span(telemetry: Telemetry, scripted: ScriptedServer,
                                                        transport: str) -> None:
    missing = status_response("GetInput", status_code_pb2.INPUT_DOES_NOT_EXIST)
    scripted.script.queue("GetInput", missing, missing)
    with Client(transport, scripted.base(transport), pat=SECRET, environ={}, retry=FAST,  # type: ignore[arg-type]
                observers=[telemetry.observer()]) as client, pytest.raises(NotFound):
        client.GetInput(GetInputRequest(input_id="x"))
    async with AsyncClient(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                           retry=FAST, observers=[telemetry.observer()]) as aclient:
        with pytest.raises(NotFound):
            await aclient.GetInput(GetInputRequest(input_id="x"))
    spans = telemetry.spans("clarifai.api.V2/GetInput")
    assert len(spans) == 2  # not retried: one attempt each
    for span in spans:
        attrs = dict(span.attributes or {})
        assert attrs["rpc.grpc.status_code"] == 0 and attrs["clarifai.status_code"] == "INPUT_DOES_NOT_EXIST"
        assert attrs["clarifai.will_retry"] is False
        assert span.status.status_code == StatusCode.ERROR and span.status.description == "INPUT_DOES_NOT_EXIST"


def test_nothing_secret_is_exported(telemetry: Telemetry, scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("ListInputs", unavailable())
    scripted.script.queue("GetInput", Abort(grpc.StatusCode.PERMISSION_DENIED, f"bad key {SECRET}", http_status=403))
    with Client(transport, scripted.base(transport), pat=SECRET, environ={}, retry=FAST,  # type: ignore[arg-type]
                metadata=[("x-custom-header", "custom-value-77")], observers=[telemetry.observer(propagate=True)],
                ) as client:
        client.ListInputs(ListInputsRequest(page=3))
        with pytest.raises(Exception):
            client.GetInput(GetInputRequest(input_id="input-id-secretive"))
    text = telemetry.exported_text()
    assert "ListInputs" in text and "GetInput" in text  # what was exported was read
    for word in (SECRET, "authorization", "custom-value-77", "x-custom-header", "input-id-secretive", "bad key"):
        assert word not in text


def test_a_failing_tracer_never_breaks_a_call(telemetry: Telemetry, scripted: ScriptedServer, transport: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def begin_attempt(self, method: str, attempt: int, config: object) -> object:
            raise RuntimeError("tracer down")

    ended: list[CallEvent] = []

    class BadHeader:
        metadata = [("Not A Key", "value-never-logged")]

        def end(self, event: CallEvent) -> None:
            ended.append(event)

    class Unsendable:
        def begin_attempt(self, method: str, attempt: int, config: object) -> BadHeader:
            return BadHeader()

    events: list[CallEvent] = []
    with Client(transport, scripted.base(transport), pat=SECRET, environ={}, retry=FAST,  # type: ignore[arg-type]
                observers=[Broken(), Unsendable(), events.append, telemetry.observer()]) as client:  # type: ignore[list-item]
        assert client.ListInputs(ListInputsRequest()).status.code == status_code_pb2.SUCCESS
    assert "tracer down" in caplog.text and "'Not A Key'" in caplog.text
    assert "value-never-logged" not in caplog.text
    assert "not a key" not in scripted.script.calls("ListInputs")[0].metadata  # dropped, not sent
    assert [e.method for e in events] == [e.method for e in ended] == ["ListInputs"]  # still observed and ended
    assert len(telemetry.spans(LIST)) == 1
