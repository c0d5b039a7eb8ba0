"""Streaming calls: one span per attempt, lasting until the stream ends, fails, is closed or dropped.

Against the emulator's generative stand-in model (one word per message), over both
transports, sync and ``asyncio``: a refused first attempt is a retried error span, the span of
the attempt that streamed ends after its last message, a stream cut midway is an error span,
and a stream closed early, or dropped, still ends its span.
"""

from __future__ import annotations

import time

import grpc
import pytest
from opentelemetry.trace import StatusCode

from clarifai_grpc_client import AsyncClient, Client, RetryPolicy, StreamInterrupted
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import Data, Input, PostModelOutputsRequest, Text

from .conftest import EMULATOR_KEY, Telemetry

GEN = "GenerateModelOutputs"
SPAN = f"clarifai.api.V2/{GEN}"
FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.02)
WORDS = 4


def generate() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(model_id="text-generation",
                                   inputs=[Input(data=Data(text=Text(raw="one two three four")))])


def base(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


def client(emu: Emulator, transport: str, telemetry: Telemetry) -> Client:
    return Client(transport, base(emu, transport), pat=EMULATOR_KEY, environ={}, retry=FAST,  # type: ignore[arg-type]
                  app_id="main", observers=[telemetry.observer(propagate=True)])


def async_client(emu: Emulator, transport: str, telemetry: Telemetry) -> AsyncClient:
    return AsyncClient(transport, base(emu, transport), pat=EMULATOR_KEY, environ={},  # type: ignore[arg-type]
                       retry=FAST, app_id="main", observers=[telemetry.observer(propagate=True)])


def check_retried_stream(telemetry: Telemetry, last_message_at: int) -> None:
    refused, streamed = telemetry.spans(SPAN)
    one, two = dict(refused.attributes or {}), dict(streamed.attributes or {})
    assert (one["clarifai.attempt"], one["clarifai.will_retry"]) == (1, True)
    assert one["rpc.grpc.status_code"] == grpc.StatusCode.UNAVAILABLE.value[0]
    assert refused.status.status_code == StatusCode.ERROR
    assert (two["clarifai.attempt"], two["clarifai.will_retry"]) == (2, False)
    assert two["rpc.grpc.status_code"] == 0 and two["clarifai.status_code"] == "SUCCESS"
    assert two["rpc.method"] == GEN and streamed.status.status_code == StatusCode.UNSET
    assert (streamed.end_time or 0) >= last_message_at  # the span covers the whole stream
    points = telemetry.duration_points()
    assert sorted((p.attributes["clarifai.will_retry"], p.count) for p in points) == [(False, 1), (True, 1)]


def test_stream_attempts_are_spans_until_the_stream_ends(emu: Emulator, transport: str,
                                                         telemetry: Telemetry) -> None:
    emu.faults.fail_next(GEN, 1)
    with client(emu, transport, telemetry) as c:
        got = 0
        for _ in c.GenerateModelOutputs(generate()):
            got += 1
            last = time.time_ns()
    assert got == WORDS
    check_retried_stream(telemetry, last)


async def test_async_stream_attempts_are_spans_until_the_stream_ends(emu: Emulator, transport: str,
                                                                     telemetry: Telemetry) -> None:
    emu.faults.fail_next(GEN, 1)
    async with async_client(emu, transport, telemetry) as c:
        got = 0
        async for _ in c.GenerateModelOutputs(generate()):
            got += 1
            last = time.time_ns()
    assert got == WORDS
    check_retried_stream(telemetry, last)


async def test_a_stream_cut_midway_is_an_error_span(emu: Emulator, transport: str, telemetry: Telemetry) -> None:
    emu.faults.cut_stream(GEN, after=2, times=2)
    with client(emu, transport, telemetry) as c, pytest.raises(StreamInterrupted):
        for _ in c.GenerateModelOutputs(generate()):
            pass
    async with async_client(emu, transport, telemetry) as ac:
        with pytest.raises(StreamInterrupted):
            async for _ in ac.GenerateModelOutputs(generate()):
                pass
    spans = telemetry.spans(SPAN)
    assert len(spans) == 2  # messages were delivered: never retried
    for span in spans:
        attrs = dict(span.attributes or {})
        assert attrs["clarifai.will_retry"] is False and attrs["rpc.grpc.status_code"] != 0
        assert span.status.status_code == StatusCode.ERROR


async def test_a_stream_closed_early_ends_its_span(emu: Emulator, transport: str, telemetry: Telemetry) -> None:
    with client(emu, transport, telemetry) as c:
        stream = c.GenerateModelOutputs(generate())
        next(stream)
        assert telemetry.spans(SPAN) == []  # still streaming
        stream.close()
    async with async_client(emu, transport, telemetry) as ac:
        astream = ac.GenerateModelOutputs(generate())
        await astream.__anext__()
        await astream.aclose()
    spans = telemetry.spans(SPAN)
    assert len(spans) == 2
    for span in spans:
        assert dict(span.attributes or {})["clarifai.status_code"] == "SUCCESS"
        assert span.status.status_code == StatusCode.UNSET


def test_a_stream_dropped_midway_ends_its_span(emu: Emulator, transport: str, telemetry: Telemetry) -> None:
    with client(emu, transport, telemetry) as c:
        stream = c.GenerateModelOutputs(generate())
        next(stream)
        del stream  # dropped without close(): cancelled on the wire, and its span ended
        (span,) = telemetry.spans(SPAN)
    assert dict(span.attributes or {})["clarifai.status_code"] == "SUCCESS"
