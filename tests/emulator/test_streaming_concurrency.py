"""Many streams open at once over gRPC: they do not starve each other or the unary calls."""

from __future__ import annotations

import queue
from concurrent import futures

import grpc

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import V2Stub

from .conftest import KEY, SC
from .stream_helpers import prompt, texts

OPEN_STREAMS = 40
METADATA = (("authorization", f"Key {KEY}"),)


def test_unary_calls_are_answered_while_many_conversations_stay_open(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.grpc_target) as channel:
        stub = V2Stub(channel)
        feeds: list[queue.Queue[p.PostModelOutputsRequest | None]] = [queue.Queue() for _ in range(OPEN_STREAMS)]
        calls = [stub.StreamModelOutputs(iter(feed.get, None), metadata=METADATA, timeout=60) for feed in feeds]
        try:
            assert emu.faults.streams.wait_for("started", OPEN_STREAMS, "StreamModelOutputs", timeout=20)
            assert stub.ListInputs(p.ListInputsRequest(), metadata=METADATA, timeout=10).status.code == SC.SUCCESS
            feeds[-1].put(prompt("b a"))
            assert [next(calls[-1]).outputs[0].data.text.raw for _ in range(2)] == ["a", " b"]
        finally:
            for feed in feeds:
                feed.put(None)
            for call in calls:
                call.cancel()


def test_many_generations_stream_side_by_side(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.grpc_target) as channel:
        stub = V2Stub(channel)

        def generate(i: int) -> list[str]:
            return texts(stub.GenerateModelOutputs(prompt(f"c{i} b{i} a{i}", chunk_delay=0.05), metadata=METADATA, timeout=60))

        with futures.ThreadPoolExecutor(OPEN_STREAMS) as pool:
            results = list(pool.map(generate, range(OPEN_STREAMS)))
    assert results == [[f"a{i}", f" b{i}", f" c{i}"] for i in range(OPEN_STREAMS)]
    assert emu.faults.streams.count("completed", "GenerateModelOutputs") == OPEN_STREAMS
