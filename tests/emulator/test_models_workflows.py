"""Built-in models (list, get, output info, predict) and workflows over every transport."""

from __future__ import annotations

import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import imaging

from .conftest import SC, GrpcApi, HttpApi
from .test_inputs import post, text_input

Api = GrpcApi | HttpApi

RED_BLUE = imaging.encode_png(10, 10, bytes([255, 0, 0] * 70 + [0, 0, 255] * 30))


def predict(api: Api, model_id: str, *inputs: p.Input, cfg: p.OutputConfig | None = None, **kw: str) -> p.MultiOutputResponse:
    model = p.Model(output_info=p.OutputInfo(output_config=cfg)) if cfg is not None else None
    r = api.call("PostModelOutputs", p.PostModelOutputsRequest(model_id=model_id, inputs=list(inputs), model=model, **kw))
    return r.msg


def image(raw: bytes) -> p.Input:
    return p.Input(data=p.Data(image=p.Image(base64=raw)))


def text(raw: str) -> p.Input:
    return p.Input(data=p.Data(text=p.Text(raw=raw)))


def test_list_and_get_models(api: Api) -> None:
    models = api.call("ListModels", p.ListModelsRequest()).msg.models
    assert {"general-embedding", "color-recognition", "text-keywords", "general-image-recognition"} <= {m.id for m in models}
    only = api.call("ListModels", p.ListModelsRequest(model_type_id="text-classifier")).msg.models
    assert [m.id for m in only] == ["text-keywords"]
    got = api.call("GetModel", p.GetModelRequest(model_id="text-keywords")).msg.model
    assert got.model_version.status.code == SC.MODEL_TRAINED and got.user_id == "clarifai"
    info = api.call("GetModelOutputInfo", p.GetModelRequest(model_id="color-recognition")).msg.model.output_info
    assert "Red" in [c.id for c in info.data.concepts]
    missing = api.call("GetModel", p.GetModelRequest(model_id="nope"))
    assert missing.code == SC.MODEL_DOES_NOT_EXIST and missing.http_status in (None, 404)
    # the public app of the built-in models answers too
    pub = api.call("GetModel", p.GetModelRequest(user_app_id=p.UserAppIDSet(user_id="clarifai", app_id="main"), model_id="text-keywords"))
    assert pub.code == SC.SUCCESS


def test_color_model(api: Api) -> None:
    out = predict(api, "color-recognition", image(RED_BLUE))
    assert out.status.code == SC.SUCCESS
    o = out.outputs[0]
    assert o.status.code == SC.SUCCESS and o.model.id == "color-recognition"
    assert [(c.w3c.name, round(c.value, 2)) for c in o.data.colors] == [("Red", 0.7), ("Blue", 0.3)]
    assert o.data.colors[0].raw_hex == "#ff0000" and o.data.colors[0].w3c.hex == "#ff0000"
    assert [c.id for c in o.data.concepts] == ["Red", "Blue"]
    limited = predict(api, "color-recognition", image(RED_BLUE), cfg=p.OutputConfig(max_concepts=1)).outputs[0]
    assert [c.id for c in limited.data.concepts] == ["Red"]
    above = predict(api, "color-recognition", image(RED_BLUE), cfg=p.OutputConfig(min_value=0.5)).outputs[0]
    assert [c.id for c in above.data.concepts] == ["Red"]
    chosen = predict(api, "color-recognition", image(RED_BLUE),
                     cfg=p.OutputConfig(select_concepts=[p.Concept(name="Blue"), p.Concept(id="Green")])).outputs[0]
    assert [(c.id, round(c.value, 2)) for c in chosen.data.concepts] == [("Blue", 0.3)]


def test_predict_failures_per_input(api: Api) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 40
    out = predict(api, "color-recognition", image(RED_BLUE), image(jpeg), p.Input(data=p.Data(image=p.Image(url="https://x/y.png"))))
    assert out.status.code == SC.MIXED_STATUS
    codes = [o.status.code for o in out.outputs]
    assert codes == [SC.SUCCESS, SC.MP_IMAGE_DECODE_ERROR, SC.MP_DOWNLOAD_ERROR]
    assert "JPEG" in out.outputs[1].status.details and "URL" in out.outputs[2].status.details
    failed = predict(api, "text-keywords", image(RED_BLUE))
    assert failed.status.code == SC.FAILURE and failed.outputs[0].status.code == SC.MODEL_INVALID_ARGUMENT
    assert predict(api, "text-keywords").status.code == SC.PREDICT_INVALID_REQUEST
    assert predict(api, "nope", text("x")).status.code == SC.MODEL_DOES_NOT_EXIST
    assert predict(api, "text-keywords", text("x"), version_id="bad").status.code == SC.MODEL_DOES_NOT_EXIST


def test_keyword_and_embedding_models(api: Api) -> None:
    out = predict(api, "text-keywords", text("My dog and two cats went to the park; the dog ate pizza."))
    values = {c.id: c.value for c in out.outputs[0].data.concepts}
    assert values == pytest.approx({"animal": 0.875, "nature": 0.5, "food": 0.5})
    emb = predict(api, "general-embedding", text("hello world"), text("hello world"), image(RED_BLUE))
    vecs = [list(o.data.embeddings[0].vector) for o in emb.outputs]
    assert len(vecs[0]) == 64 and emb.outputs[0].data.embeddings[0].num_dimensions == 64
    assert vecs[0] == vecs[1] and vecs[0] != vecs[2]
    assert sum(v * v for v in vecs[2]) == pytest.approx(1.0, abs=1e-5)


def test_predict_on_stored_input_by_id(api: Api) -> None:
    post(api, text_input("stored", raw="football match tonight"))
    out = predict(api, "text-keywords", p.Input(id="stored"))
    assert out.outputs[0].status.code == SC.SUCCESS
    assert [c.id for c in out.outputs[0].data.concepts] == ["sport"]


def test_workflows(api: Api) -> None:
    wf = p.Workflow(id="wf", nodes=[
        p.WorkflowNode(id="emb", model=p.Model(id="general-embedding")),
        p.WorkflowNode(id="kw", model=p.Model(id="text-keywords"), node_inputs=[p.NodeInput(node_id="emb")],
                       output_info_override=p.OutputInfo(output_config=p.OutputConfig(max_concepts=1))),
        p.WorkflowNode(id="hidden", model=p.Model(id="text-keywords"), suppress_output=True),
    ])
    r = api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[wf]))
    assert r.code == SC.SUCCESS, r.msg.status
    assert r.msg.workflows[0].version.id and r.msg.workflows[0].nodes[0].model.model_version.id
    assert api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[wf])).code == SC.WORKFLOW_DUPLICATE
    bad = p.Workflow(id="bad", nodes=[p.WorkflowNode(id="a", model=p.Model(id="text-keywords"), node_inputs=[p.NodeInput(node_id="b")]),
                                      p.WorkflowNode(id="b", model=p.Model(id="text-keywords"), node_inputs=[p.NodeInput(node_id="a")])])
    assert api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[bad])).code == SC.WORKFLOW_INVALID_GRAPH
    assert api.call("GetWorkflow", p.GetWorkflowRequest(workflow_id="wf")).msg.workflow.id == "wf"
    assert [w.id for w in api.call("ListWorkflows", p.ListWorkflowsRequest()).msg.workflows] == ["wf"]
    res = api.call("PostWorkflowResults", p.PostWorkflowResultsRequest(workflow_id="wf", inputs=[text("dog food and a cat")]))
    assert res.code == SC.SUCCESS, res.msg.status
    result = res.msg.results[0]
    assert [o.model.id for o in result.outputs] == ["general-embedding", "text-keywords"]
    assert [c.id for c in result.outputs[1].data.concepts] == ["animal"]
    mixed = api.call("PostWorkflowResults", p.PostWorkflowResultsRequest(workflow_id="wf", inputs=[image(b"not an image")]))
    assert [o.status.code for o in mixed.msg.results[0].outputs] == [SC.SUCCESS, SC.MODEL_INVALID_ARGUMENT]
    assert mixed.msg.results[0].status.code == SC.MIXED_STATUS
    chain = p.Workflow(id="chain", nodes=[
        p.WorkflowNode(id="kw", model=p.Model(id="text-keywords")),
        p.WorkflowNode(id="emb", model=p.Model(id="general-embedding"), node_inputs=[p.NodeInput(node_id="kw")])])
    assert api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[chain])).code == SC.SUCCESS
    failed = api.call("PostWorkflowResults", p.PostWorkflowResultsRequest(workflow_id="chain", inputs=[image(b"not an image")]))
    assert failed.code == SC.FAILURE
    outs = failed.msg.results[0].outputs
    assert [o.status.code for o in outs] == [SC.MODEL_INVALID_ARGUMENT, SC.FAILURE]  # the child never ran
    assert "kw" in outs[1].status.details
    assert api.call("DeleteWorkflow", p.DeleteWorkflowRequest(workflow_id="wf")).code == SC.SUCCESS
    assert api.call("GetWorkflow", p.GetWorkflowRequest(workflow_id="wf")).code == SC.WORKFLOW_DOES_NOT_EXIST
    assert api.call("PostWorkflowResults", p.PostWorkflowResultsRequest(workflow_id="wf", inputs=[text("x")])).code \
        == SC.WORKFLOW_DOES_NOT_EXIST
