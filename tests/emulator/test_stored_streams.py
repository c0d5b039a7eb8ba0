"""Streaming RPCs over stored state: annotation and log streams on gRPC and HTTP, version uploads and runner items on gRPC.

(The bidirectional uploads and runner-item streams have no HTTP form a JSON client can drive
message by message, so they are exercised over gRPC; their HTTP routes are reached by the
every-RPC test.)
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

from clarifai_grpc_client import _json_format, _transcoding
from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.dispatch import V2
from clarifai_grpc_client.proto import V2Stub

from .conftest import KEY, SC

APP = p.UserAppIDSet(user_id="me", app_id="main")
MD = (("authorization", f"Key {KEY}"),)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        stub = V2Stub(grpc.insecure_channel(e.grpc_target))
        stub.PostInputs(p.PostInputsRequest(user_app_id=APP, inputs=[p.Input(id="clip", data=p.Data(text=p.Text(raw="x")))]), metadata=MD)
        stub.PostAnnotations(p.PostAnnotationsRequest(user_app_id=APP, annotations=[
            p.Annotation(id=f"a{i}", input_id="clip", data=p.Data(concepts=[p.Concept(id="cat", value=0.2 + 0.3 * i)])) for i in range(3)]),
            metadata=MD)
        stub.PostLogEntries(p.PostLogEntriesRequest(log_entries=[
            p.LogEntry(log_type="builder", message=f"step {i}", meta=p.ComputeSourceMetadata(pipeline_id="pl", pipeline_version_id="pv", pipeline_version_run_id="run"))
            for i in range(2)]), metadata=MD)
        yield e


@pytest.fixture(scope="module")
def stub(emulator: Emulator) -> Iterator[V2Stub]:
    with grpc.insecure_channel(emulator.grpc_target) as channel:
        yield V2Stub(channel)


def over_http(emulator: Emulator, rpc: str, req: Message) -> list[Message]:
    """The messages of a server-streaming call through the gateway (newline-delimited ``{"result": ...}``)."""
    rule = _transcoding.service_rules(V2)[f"/{V2.full_name}/{rpc}"]
    http_req = _transcoding.encode_request(rule, req)
    out = []
    with httpx.Client(base_url=emulator.http_base, headers={"Authorization": f"Key {KEY}"}, timeout=20) as client:
        resp = client.request(http_req.verb, http_req.url_path(), json=http_req.body)
        for line in resp.text.splitlines():
            if line.strip():
                node = json.loads(line)
                assert "result" in node, node
                cls = message_factory.GetMessageClass(V2.methods_by_name[rpc].output_type)
                out.append(_json_format.parse_dict(node["result"], cls()))
    return out


def stream(transport: str, emulator: Emulator, stub: V2Stub, rpc: str, req: Message) -> list[Any]:
    if transport == "grpc":
        return list(getattr(stub, rpc)(req, metadata=MD, timeout=20))
    return over_http(emulator, rpc, req)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_annotations_stream_one_per_message(emulator: Emulator, stub: V2Stub, transport: str) -> None:
    got = stream(transport, emulator, stub, "StreamAnnotations", p.StreamAnnotationsRequest(user_app_id=APP, input_id="clip"))
    assert [m.annotation.id for m in got] == ["a0", "a1", "a2"]
    assert all(m.status.code == SC.SUCCESS and m.status.req_id for m in got)
    strong = stream(transport, emulator, stub, "StreamLivestreamAnnotations",
                    p.StreamLivestreamAnnotationsRequest(user_app_id=APP, input_id="clip", min_prediction_score=0.6))
    assert [m.annotation.id for m in strong] == ["a2"]
    missing = stream(transport, emulator, stub, "StreamAnnotations", p.StreamAnnotationsRequest(user_app_id=APP, input_id="nope"))
    assert [m.status.code for m in missing] == [SC.INPUT_DOES_NOT_EXIST]


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_log_entries_stream(emulator: Emulator, stub: V2Stub, transport: str) -> None:
    # (the runner route of StreamLogEntries is also ListLogEntries' GET route; the pipeline-run route is its own)
    req = p.StreamLogEntriesRequest(user_app_id=APP, log_type="builder", pipeline_id="pl", pipeline_version_id="pv",
                                    pipeline_version_run_id="run")
    got = stream(transport, emulator, stub, "StreamLogEntries", req)
    assert [e.message for m in got for e in m.log_entries] == ["step 0", "step 1"]


def test_model_version_upload_counts_down_and_stores_the_version(stub: V2Stub) -> None:
    assert stub.PostModels(p.PostModelsRequest(user_app_id=APP, model=p.Model(id="up")), metadata=MD).status.code == SC.SUCCESS
    config = p.PostModelVersionsUploadConfig(user_app_id=APP, model_id="up", total_size=6, model_version=p.ModelVersion(id="uv"))
    reqs = [p.PostModelVersionsUploadRequest(upload_config=config),
            p.PostModelVersionsUploadRequest(content_part=p.UploadContentPart(part_number=1, data=b"abc")),
            p.PostModelVersionsUploadRequest(content_part=p.UploadContentPart(part_number=2, data=b"def"))]
    answers = list(stub.PostModelVersionsUpload(iter(reqs), metadata=MD, timeout=20))
    assert [a.bytes_remaining for a in answers] == [6, 3, 0] and {a.model_version_id for a in answers} == {"uv"}
    version = stub.GetModelVersion(p.GetModelVersionRequest(user_app_id=APP, model_id="up", version_id="uv"), metadata=MD)
    assert version.status.code == SC.SUCCESS and version.model_version.status.code == SC.MODEL_TRAINING
    orphan = p.PostModelVersionsUploadConfig(user_app_id=APP, model_id="no-model", total_size=1)
    refused = list(stub.PostModelVersionsUpload(iter([p.PostModelVersionsUploadRequest(upload_config=orphan)]), metadata=MD, timeout=20))
    assert [a.status.code for a in refused] == [SC.MODEL_DOES_NOT_EXIST]


def test_runner_items_stream_answers_each_request(stub: V2Stub) -> None:
    reqs = [p.PostRunnerItemOutputsRequest(user_app_id=p.UserAppIDSet(user_id="me")) for _ in range(2)]
    answers = list(stub.ProcessRunnerItems(iter(reqs), metadata=MD, timeout=20))
    assert [a.status.code for a in answers] == [SC.SUCCESS, SC.SUCCESS] and all(not a.runner_items for a in answers)
