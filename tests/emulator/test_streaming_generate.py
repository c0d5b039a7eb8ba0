"""GenerateModelOutputs: the stand-in's chunks in order, the same over gRPC and the gateway's newline-delimited JSON."""

from __future__ import annotations

import time

import httpx

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator

from .conftest import SC, GrpcApi
from .stream_helpers import GrpcStreams, HttpStreams, StreamApi, prompt, texts


def test_chunks_arrive_in_order_and_add_up_to_the_unary_reply(streams: StreamApi, grpc_api: GrpcApi) -> None:
    res = streams.generate(prompt("the quick brown fox jumps"))
    assert res.error is None and not res.abrupt and res.http_status in (None, 200)
    assert texts(res.messages) == ["jumps", " fox", " brown", " quick", " the"]
    unary = grpc_api.call("PostModelOutputs", prompt("the quick brown fox jumps")).msg
    assert res.text == unary.outputs[0].data.text.raw == "jumps fox brown quick the"


def test_every_chunk_has_a_status_the_stream_s_req_id_and_its_input(streams: StreamApi) -> None:
    res = streams.generate(prompt("a b c"))
    assert len(res.messages) == 3
    assert {m.status.code for m in res.messages} == {SC.SUCCESS}
    req_ids = {m.status.req_id for m in res.messages}
    assert len(req_ids) == 1 and req_ids != {""}
    assert {o.input.id for m in res.messages for o in m.outputs} == {"in-1"}
    assert len({o.id for m in res.messages for o in m.outputs}) == 1  # one output, streamed in parts
    assert {o.model.id for m in res.messages for o in m.outputs} == {"text-generation"}
    first, *later = [m.outputs[0] for m in res.messages]
    assert first.input.data.text.raw == "a b c" and first.model.name  # in full, as PostModelOutputs answers
    assert all(o.input.data.text.raw == "" and o.model.model_version.id == first.model.model_version.id for o in later)


def test_several_inputs_stream_side_by_side(streams: StreamApi) -> None:
    req = prompt("x")
    req.inputs.add(id="in-2", data=p.Data(text=p.Text(raw="one two three")))
    req.inputs.add(id="in-3", data=p.Data(image=p.Image(base64=b"not a prompt")))
    res = streams.generate(req)
    assert len(res.messages) == 3
    first = {o.input.id: o for o in res.messages[0].outputs}
    assert first["in-1"].data.text.raw == "x" and first["in-2"].data.text.raw == "three"
    assert first["in-3"].status.code == SC.MODEL_INVALID_ARGUMENT
    assert res.messages[0].status.code == SC.MIXED_STATUS
    assert [[o.input.id for o in m.outputs] for m in res.messages[1:]] == [["in-2"], ["in-2"]]
    assert "".join(o.data.text.raw for m in res.messages for o in m.outputs if o.input.id == "in-2") == "three two one"


def test_a_model_that_is_not_generative_answers_in_one_message(streams: StreamApi) -> None:
    res = streams.generate(prompt("the dog ate pizza", model_id="text-keywords"))
    assert len(res.messages) == 1 and res.error is None
    concepts = {c.id for c in res.messages[0].outputs[0].data.concepts}
    assert {"animal", "food"} <= concepts


def test_an_unknown_model_is_one_failing_message(streams: StreamApi) -> None:
    res = streams.generate(prompt("hi", model_id="no-such-model"))
    assert [m.status.code for m in res.messages] == [SC.MODEL_DOES_NOT_EXIST] and res.error is None
    assert res.http_status in (None, 404)


def test_no_inputs_is_refused(streams: StreamApi) -> None:
    req = prompt("x")
    del req.inputs[:]
    res = streams.generate(req)
    assert [m.status.code for m in res.messages] == [SC.PREDICT_INVALID_REQUEST]


def test_a_bad_key_is_refused_before_any_chunk(emu: Emulator) -> None:
    for helper in (GrpcStreams(emu, "wrong"), HttpStreams(emu, "wrong")):
        try:
            res = helper.generate(prompt("a b"))
            assert [m.status.code for m in res.messages] == [SC.CONN_KEY_NOT_FOUND]
            assert res.http_status in (None, 401)
        finally:
            helper.close()
    assert emu.faults.streams.count("failed", "GenerateModelOutputs") == 2


def test_the_per_request_chunk_delay_spaces_the_chunks(streams: StreamApi) -> None:
    start = time.monotonic()
    res = streams.generate(prompt("a b c d", chunk_delay=0.1))
    assert len(res.messages) == 4 and time.monotonic() - start >= 0.3  # three pauses between four chunks
    bad = streams.generate(prompt("a b", chunk_delay=999))
    assert [m.status.code for m in bad.messages] == [SC.MODEL_INVALID_ARGUMENT]


def test_the_emulator_wide_stream_delay_applies_without_a_request_knob(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.set_stream_delay(0.1)
    start = time.monotonic()
    assert len(streams.generate(prompt("a b c")).messages) == 3
    assert time.monotonic() - start >= 0.2
    emu.faults.set_stream_delay(0)


def test_the_http_stream_is_chunked_newline_delimited_json(emu: Emulator) -> None:
    body = {"model_id": "text-generation", "inputs": [{"data": {"text": {"raw": "b a"}}}]}
    with httpx.Client(base_url=emu.http_base, headers={"Authorization": "Key test-key"}) as client:
        with client.stream("POST", "/v2/users/me/apps/main/models/text-generation/outputs/generate", json=body) as resp:
            assert resp.status_code == 200 and resp.headers["transfer-encoding"] == "chunked"
            raw = b"".join(resp.iter_raw())
    lines = raw.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3 and all(line.startswith(b'{"result":{') for line in lines[:2])
    assert emu.faults.streams.count("completed", "GenerateModelOutputs") == 1
