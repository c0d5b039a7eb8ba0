"""StreamModelOutputs: each request gets its own chunks, in order, over gRPC and over the gateway's JSON body of requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import httpx

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import V2Stub

from .conftest import KEY, SC
from .stream_helpers import StreamApi, prompt, texts


def test_each_request_streams_its_own_chunks_in_turn(streams: StreamApi) -> None:
    res = streams.bidi([prompt("b a"), prompt("z y x")])
    assert res.error is None
    assert texts(res.messages) == ["a", " b", "x", " y", " z"]
    assert len({m.status.req_id for m in res.messages}) == 1


def test_a_failing_request_gets_one_failing_message_and_the_stream_goes_on(streams: StreamApi) -> None:
    res = streams.bidi([prompt("b a"), prompt("x", model_id="nope"), prompt("d c")])
    assert [m.status.code for m in res.messages] == [SC.SUCCESS, SC.SUCCESS, SC.MODEL_DOES_NOT_EXIST, SC.SUCCESS, SC.SUCCESS]
    assert texts(res.messages) == ["a", " b", "c", " d"]


def test_a_cut_applies_across_requests(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.cut_stream("StreamModelOutputs", after=3)
    res = streams.bidi([prompt("b a"), prompt("d c")])
    assert texts(res.messages) == ["a", " b", "c"] and (res.error or "").find("after 3 messages") >= 0


def test_answers_come_while_the_client_is_still_sending(emu: Emulator) -> None:
    """Conversation style: the next request is sent only after the previous one's chunks arrived."""
    turn = threading.Event()
    sent: list[str] = []

    def requests() -> Iterator[p.PostModelOutputsRequest]:
        for text in ("two one", "four three"):
            sent.append(text)
            yield prompt(text)
            assert turn.wait(10)
            turn.clear()

    got: list[str] = []
    with grpc.insecure_channel(emu.grpc_target) as channel:
        for msg in V2Stub(channel).StreamModelOutputs(requests(), metadata=(("authorization", f"Key {KEY}"),), timeout=30):
            got.append(msg.outputs[0].data.text.raw)
            if len(got) % 2 == 0:
                assert len(sent) == len(got) // 2  # these chunks answered a request sent alone
                turn.set()
    assert got == ["one", " two", "three", " four"]
    assert emu.faults.streams.count("completed", "StreamModelOutputs") == 1


def test_a_bad_request_in_the_http_body_is_named(emu: Emulator) -> None:
    body = b'{"model_id": "text-generation", "inputs": [{"data": {"text": {"raw": "a"}}}]}\n{"model_idd": "x"}'
    r = httpx.post(emu.http_base + "/v2/models/outputs/stream", content=body, headers={"Authorization": f"Key {KEY}"})
    assert r.status_code == 400 and "model_idd" in r.json()["status"]["details"]
    r = httpx.post(emu.http_base + "/v2/models/outputs/stream", content=b'{"model_id": "x"} {"oops', headers={"Authorization": f"Key {KEY}"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["status"]["details"]
