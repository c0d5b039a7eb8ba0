"""The stand-ins named after public models (``general-image-recognition``) over every transport."""

from __future__ import annotations

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import standins

from .conftest import SC, GrpcApi, HttpApi
from .test_models_workflows import RED_BLUE, image, predict, text

Api = GrpcApi | HttpApi
METRO = "https://samples.clarifai.com/metro-north.jpg"


def url(address: str) -> p.Input:
    return p.Input(data=p.Data(image=p.Image(url=address)))


def test_listed_with_its_vocabulary(api: Api) -> None:
    got = api.call("GetModel", p.GetModelRequest(model_id="general-image-recognition")).msg.model
    assert got.model_type_id == "visual-classifier" and got.model_version.status.code == SC.MODEL_TRAINED
    info = api.call("GetModelOutputInfo", p.GetModelRequest(model_id="general-image-recognition")).msg.model.output_info
    assert [c.name for c in info.data.concepts] == list(standins.GENERAL_CONCEPTS)


def test_urls_answer_offline_and_deterministically(api: Api) -> None:
    first = predict(api, "general-image-recognition", url(METRO), url(METRO), url("https://example.com/other.jpg"))
    assert first.status.code == SC.SUCCESS
    a, b, c = ([(x.name, round(x.value, 5)) for x in o.data.concepts] for o in first.outputs)
    assert a == b and a != c and len(a) == 20
    assert all(0.5 <= v < 0.99 for _, v in a) and [v for _, v in a] == sorted((v for _, v in a), reverse=True)
    again = predict(api, "general-image-recognition", url(METRO))
    assert [(x.name, round(x.value, 5)) for x in again.outputs[0].data.concepts] == a


def test_words_of_the_url_path_come_first(api: Api) -> None:
    out = predict(api, "general-image-recognition", url("https://dog.example.com/photos/a-dog-on-a-train.jpg"))
    names = [x.name for x in out.outputs[0].data.concepts]
    assert set(names[:2]) == {"dog", "train"} and all(x.value >= 0.99 for x in out.outputs[0].data.concepts[:2])
    host_only = predict(api, "general-image-recognition", url("https://dog.example.com/x.jpg"))
    assert all(x.value < 0.99 for x in host_only.outputs[0].data.concepts)


def test_bytes_and_output_config(api: Api) -> None:
    cfg = p.OutputConfig(max_concepts=3, select_concepts=[p.Concept(name="dog"), p.Concept(name="cat"), p.Concept(name="sky")])
    out = predict(api, "general-image-recognition", image(RED_BLUE), cfg=cfg)
    assert sorted(x.name for x in out.outputs[0].data.concepts) == ["cat", "dog", "sky"]
    assert predict(api, "general-image-recognition", image(RED_BLUE)).outputs[0].data.concepts[0].value < 0.99


def test_text_is_refused_per_input(api: Api) -> None:
    out = predict(api, "general-image-recognition", text("a dog"), url(METRO))
    assert out.status.code == SC.MIXED_STATUS
    assert out.outputs[0].status.code == SC.MODEL_INVALID_ARGUMENT and "takes image inputs" in out.outputs[0].status.details
    assert out.outputs[1].status.code == SC.SUCCESS
