"""Trace context on the wire: each attempt's own ``traceparent``, only when propagation is on.

The scripted server (and, for streams, a test server) records the gRPC metadata and HTTP headers it received, so these tests
check what actually crossed the wire, over both transports, sync and ``asyncio``.
"""

from __future__ import annotations

import grpc

from clarifai_grpc_client import AsyncClient, Client, RetryPolicy
from clarifai_grpc_client.proto import ListInputsRequest, PostModelOutputsRequest

from ..conftest import SECRET, Abort, ScriptedServer
from .conftest import StreamServer, Telemetry

FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


def traceparents(telemetry: Telemetry) -> list[str]:
    """The ``traceparent`` each finished ListInputs attempt span should have sent."""
    out = []
    for span in telemetry.spans("clarifai.api.V2/ListInputs"):
        ctx = span.context
        assert ctx is not None
        out.append(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}")
    return out


def test_each_attempt_sends_its_own_traceparent_when_on(telemetry: Telemetry, scripted: ScriptedServer,
                                                         transport: str) -> None:
    scripted.script.queue("ListInputs", Abort(grpc.StatusCode.UNAVAILABLE, "restarting", http_status=503))
    with Client(transport, scripted.base(transport), pat=SECRET, environ={}, retry=FAST,  # type: ignore[arg-type]
                observers=[telemetry.observer(propagate=True)]) as client:
        with telemetry.tracer_provider.get_tracer("test").start_as_current_span("caller"):
            client.ListInputs(ListInputsRequest())
    sent = [call.metadata.get("traceparent") for call in scripted.script.calls("ListInputs")]
    assert sent == traceparents(telemetry) and len(set(sent)) == 2
    assert all(call.metadata["authorization"] == f"Key {SECRET}" for call in scripted.script.calls("ListInputs"))


async def test_async_attempts_send_a_traceparent_when_on(telemetry: Telemetry, scripted: ScriptedServer,
                                                         transport: str) -> None:
    async with AsyncClient(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                           retry=FAST, observers=[telemetry.observer(propagate=True)]) as client:
        with telemetry.tracer_provider.get_tracer("test").start_as_current_span("caller") as parent:
            await client.ListInputs(ListInputsRequest())
    (call,) = scripted.script.calls("ListInputs")
    assert [call.metadata.get("traceparent")] == traceparents(telemetry)
    assert call.metadata["traceparent"].split("-")[1] == f"{parent.get_span_context().trace_id:032x}"


async def test_no_trace_context_leaves_when_off(telemetry: Telemetry, scripted: ScriptedServer,
                                                transport: str) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    with Client(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                observers=[telemetry.observer()]) as client, tracer.start_as_current_span("caller"):
        client.ListInputs(ListInputsRequest())
    async with AsyncClient(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                           observers=[telemetry.observer()]) as aclient:
        with tracer.start_as_current_span("caller"):
            await aclient.ListInputs(ListInputsRequest())
    calls = scripted.script.calls("ListInputs")
    assert len(calls) == 2 and len(telemetry.spans("clarifai.api.V2/ListInputs")) == 2
    for call in calls:
        assert "traceparent" not in call.metadata and "tracestate" not in call.metadata


async def test_stream_attempts_send_a_traceparent_only_when_on(telemetry: Telemetry, stream_server: StreamServer,
                                                               transport: str) -> None:
    request = PostModelOutputsRequest(model_id="m")
    base = stream_server.base(transport)
    for propagate in (True, False):
        with Client(transport, base, pat=SECRET, environ={}, app_id="a",  # type: ignore[arg-type]
                    observers=[telemetry.observer(propagate=propagate)]) as client:
            assert len(list(client.GenerateModelOutputs(request))) == 2
        async with AsyncClient(transport, base, pat=SECRET, environ={}, app_id="a",  # type: ignore[arg-type]
                               observers=[telemetry.observer(propagate=propagate)]) as aclient:
            assert len([m async for m in aclient.GenerateModelOutputs(request)]) == 2
    spans = telemetry.spans("clarifai.api.V2/GenerateModelOutputs")
    assert len(spans) == 4 and len(stream_server.seen) == 4
    sent = [seen.get("traceparent") for seen in stream_server.seen]
    for span, traceparent in zip(spans[:2], sent[:2]):
        ctx = span.context
        assert ctx is not None and traceparent == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"
    assert sent[2:] == [None, None]
    assert all(seen["authorization"] == f"Key {SECRET}" for seen in stream_server.seen)
