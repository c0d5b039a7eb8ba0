"""A client that goes away mid-stream is noticed at once: the stream stops and is logged as cancelled, on both transports."""

from __future__ import annotations

import json

import grpc
import httpx

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import V2Stub

from .conftest import KEY
from .stream_helpers import GrpcStreams, HttpStreams, prompt

RPC = "GenerateModelOutputs"
LONG = " ".join(f"w{i}" for i in range(50))  # 50 chunks: at 0.2 s apiece, 10 s if nobody stopped it


def test_grpc_cancel_mid_stream_reaches_the_server(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.grpc_target) as channel:
        call = V2Stub(channel).GenerateModelOutputs(prompt(LONG, chunk_delay=0.2), metadata=(("authorization", f"Key {KEY}"),),
                                                    timeout=30)
        first = next(call)
        assert first.outputs[0].data.text.raw == "w49"
        call.cancel()
        assert emu.faults.streams.wait_for("cancelled", 1, RPC, timeout=5)
    log = emu.faults.streams
    assert log.count("messages", RPC) < 5 and log.active(RPC) == 0 and log.count("completed", RPC) == 0


def test_grpc_deadline_mid_stream_ends_the_server_side_too(emu: Emulator) -> None:
    helper = GrpcStreams(emu, KEY)
    try:
        res = helper.generate(prompt(LONG, chunk_delay=0.2), timeout=0.5)
    finally:
        helper.close()
    assert res.error is not None and res.error.startswith("DEADLINE_EXCEEDED") and 1 <= len(res.messages) < 10
    assert emu.faults.streams.wait_for("cancelled", 1, RPC, timeout=5)


def test_http_close_mid_stream_reaches_the_server(emu: Emulator) -> None:
    body = {"model_id": "text-generation", "inputs": [{"data": {"text": {"raw": LONG}}}],
            "model": {"model_version": {"output_info": {"params": {"chunk_delay": 0.2}}}}}
    with httpx.Client(base_url=emu.http_base, headers={"Authorization": f"Key {KEY}"}, timeout=30) as client:
        with client.stream("POST", "/v2/users/me/apps/main/models/text-generation/outputs/generate", json=body) as resp:
            first = json.loads(next(resp.iter_lines()))
            assert first["result"]["outputs"][0]["data"]["text"]["raw"] == "w49"
        # leaving the block closes the response mid-body, so the connection is closed
    assert emu.faults.streams.wait_for("cancelled", 1, RPC, timeout=5)
    log = emu.faults.streams
    assert log.count("messages", RPC) < 5 and log.active(RPC) == 0


def test_http_close_is_noticed_during_a_long_pause(emu: Emulator) -> None:
    """No write is needed to notice: the gateway watches the connection while the stream waits."""
    helper = HttpStreams(emu, KEY)
    verb, path, body = helper.request(RPC, prompt("a b", chunk_delay=30))
    try:
        with helper.client.stream(verb, path, json=body) as resp:
            next(resp.iter_lines())
    finally:
        helper.close()
    assert emu.faults.streams.wait_for("cancelled", 1, RPC, timeout=5)  # well before the 30 s pause ends


def test_bidi_cancel_mid_stream_reaches_the_server(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.grpc_target) as channel:
        call = V2Stub(channel).StreamModelOutputs(iter([prompt(LONG, chunk_delay=0.2)] * 3),
                                                  metadata=(("authorization", f"Key {KEY}"),), timeout=30)
        assert isinstance(next(call), p.MultiOutputResponse)
        call.cancel()
        assert emu.faults.streams.wait_for("cancelled", 1, "StreamModelOutputs", timeout=5)
