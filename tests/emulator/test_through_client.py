"""The emulator's behaviours through the library's Client, over both transports, sync and async."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clarifai_grpc_client import (
    AlreadyExists,
    AsyncClient,
    Client,
    NotFound,
    RetryPolicy,
    Unauthenticated,
)
from clarifai_grpc_client import proto as p
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator

KEY = "client-key"
FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e


def base(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


def client(emu: Emulator, transport: str, key: str = KEY) -> Client:
    return Client(transport, base(emu, transport), pat=key, app_id="main", environ={}, retry=FAST)  # type: ignore[arg-type]


def test_input_lifecycle_search_predict_and_workflow(emu: Emulator, transport: str) -> None:
    with client(emu, transport) as c:
        c.PostInputs(p.PostInputsRequest(inputs=[
            p.Input(id="red", data=p.Data(image=p.Image(base64=png((220, 20, 60))),
                                         concepts=[p.Concept(id="warm", value=1)], metadata={"kind": "swatch"})),
            p.Input(id="text", data=p.Data(text=p.Text(raw="a rainy weather forecast"),
                                          concepts=[p.Concept(id="warm", value=0)])),
        ]))
        got = c.GetInput(p.GetInputRequest(input_id="red")).input
        assert got.data.image.image_info.width == 16 and got.data.concepts[0].value == 1.0
        c.PatchInputs(p.PatchInputsRequest(action="merge", inputs=[p.Input(id="red", data=p.Data(metadata={"extra": 1}))]))
        assert dict(c.GetInput(p.GetInputRequest(input_id="red")).input.data.metadata) == {"kind": "swatch", "extra": 1.0}

        by_concept = p.PostInputsSearchesRequest(searches=[p.Search(query=p.Query(filters=[
            p.Filter(annotation=p.Annotation(data=p.Data(concepts=[p.Concept(id="warm", value=0)])))]))])
        hits = c.PostInputsSearches(by_concept).hits
        assert [h.input.id for h in hits] == ["text"]  # the negative label, sent as an explicit 0

        colours = c.PostModelOutputs(p.PostModelOutputsRequest(model_id="color-recognition", inputs=[got]))
        assert colours.outputs[0].data.concepts[0].name == "Crimson"

        c.PostWorkflows(p.PostWorkflowsRequest(workflows=[p.Workflow(id="wf", nodes=[
            p.WorkflowNode(id="kw", model=p.Model(id="text-keywords"))])]))
        result = c.PostWorkflowResults(p.PostWorkflowResultsRequest(
            workflow_id="wf", inputs=[p.Input(data=p.Data(text=p.Text(raw="rain and snow")))]))
        assert result.results[0].outputs[0].data.concepts[0].id == "weather"

        c.DeleteInputs(p.DeleteInputsRequest(ids=["red"]))
        with pytest.raises(NotFound) as info:
            c.GetInput(p.GetInputRequest(input_id="red"))
        assert info.value.code_name == "INPUT_DOES_NOT_EXIST" and info.value.req_id


def test_typed_errors_for_duplicates_bad_keys_and_missing_resources(emu: Emulator, transport: str) -> None:
    with client(emu, transport) as c:
        c.PostInputs(p.PostInputsRequest(inputs=[p.Input(id="dup", data=p.Data(text=p.Text(raw="x")))]))
        with pytest.raises(AlreadyExists) as dup:
            c.PostInputs(p.PostInputsRequest(inputs=[p.Input(id="dup", data=p.Data(text=p.Text(raw="x")))]))
        assert dup.value.code_name == "INPUT_DUPLICATE" and dup.value.http_status == 409
        c.PostDatasets(p.PostDatasetsRequest(datasets=[p.Dataset(id="ds")]))
        with pytest.raises(AlreadyExists) as dup:
            c.PostDatasets(p.PostDatasetsRequest(datasets=[p.Dataset(id="ds")]))
        assert dup.value.code_name == "DATABASE_DUPLICATE_KEY" and dup.value.http_status == 409
        with pytest.raises(NotFound) as missing:
            c.GetComputeCluster(p.GetComputeClusterRequest(compute_cluster_id="nope"))
        assert missing.value.code_name == "COMPUTE_CLUSTER_DOES_NOT_EXIST" and "nope" in str(missing.value)
    with client(emu, transport, key="not-a-key") as bad, pytest.raises(Unauthenticated):
        bad.ListInputs(p.ListInputsRequest())


async def test_async_client_against_the_emulator(emu: Emulator, transport: str) -> None:
    async with AsyncClient(transport, base(emu, transport), pat=KEY, app_id="main", environ={}, retry=FAST) as c:  # type: ignore[arg-type]
        await c.PostInputs(p.PostInputsRequest(inputs=[p.Input(id=f"a{i}", data=p.Data(text=p.Text(raw=f"n {i}")))
                                                       for i in range(5)]))
        ids = [i.id async for i in c.stream_inputs(per_page=2, order_by_id=True)]
        assert ids == ["a0", "a1", "a2", "a3", "a4"]
        with pytest.raises(NotFound):
            await c.GetInput(p.GetInputRequest(input_id="nope"))
