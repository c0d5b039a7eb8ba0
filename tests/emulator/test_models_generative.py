"""The text-to-text stand-in model: its deterministic reply, its params, and its unary answer on every transport."""

from __future__ import annotations

import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator.models import (
    BUILTIN_MODELS,
    GENERATION_MODEL_ID,
    PredictionError,
    chunk_delay,
    generation_chunks,
    prompt_of,
)

from .conftest import SC, GrpcApi, HttpApi

Api = GrpcApi | HttpApi


def test_the_reply_is_the_prompt_s_words_reversed_one_per_chunk() -> None:
    assert generation_chunks("one two  three\nfour") == ["four", " three", " two", " one"]
    assert generation_chunks("solo") == ["solo"]
    assert generation_chunks("") == []


def test_the_reply_depends_on_the_prompt_and_only_on_it() -> None:
    assert generation_chunks("a b c") == generation_chunks("a b c")
    assert generation_chunks("a b c") != generation_chunks("a b d")


def test_chunk_delay_comes_from_the_version_params_first() -> None:
    model = p.Model()
    assert chunk_delay(model) is None
    model.output_info.params.update({"chunk_delay": 0.5})
    assert chunk_delay(model) == 0.5
    model.model_version.output_info.params.update({"chunk_delay": 0.25})
    assert chunk_delay(model) == 0.25


@pytest.mark.parametrize("bad", [-1, 61, "soon", True])
def test_a_bad_chunk_delay_is_named(bad: object) -> None:
    model = p.Model()
    model.model_version.output_info.params.update({"chunk_delay": bad})
    with pytest.raises(PredictionError) as err:
        chunk_delay(model)
    assert err.value.code == SC.MODEL_INVALID_ARGUMENT and "chunk_delay" in err.value.details


@pytest.mark.parametrize(("data", "code"), [
    (p.Data(image=p.Image(base64=b"\x89PNG")), SC.MODEL_INVALID_ARGUMENT),
    (p.Data(text=p.Text(raw="   ")), SC.MODEL_INVALID_ARGUMENT),
    (p.Data(text=p.Text(url="https://example.com/prompt.txt")), SC.MP_DOWNLOAD_ERROR),
    (p.Data(), SC.MODEL_INVALID_ARGUMENT),
])
def test_prompts_that_are_not_text_fail_per_input(data: p.Data, code: int) -> None:
    with pytest.raises(PredictionError) as err:
        prompt_of(data)
    assert err.value.code == code


def test_the_model_is_listed_as_text_to_text(api: Api) -> None:
    assert BUILTIN_MODELS[GENERATION_MODEL_ID].model_type_id == "text-to-text"
    found = api.call("ListModels", p.ListModelsRequest(model_type_id="text-to-text")).msg.models
    assert [m.id for m in found] == [GENERATION_MODEL_ID]
    got = api.call("GetModel", p.GetModelRequest(model_id=GENERATION_MODEL_ID)).msg.model
    assert got.model_version.status.code == SC.MODEL_TRAINED


def test_post_model_outputs_answers_the_whole_reply_in_one_message(api: Api) -> None:
    req = p.PostModelOutputsRequest(model_id=GENERATION_MODEL_ID, inputs=[
        p.Input(id="a", data=p.Data(text=p.Text(raw="hello big world"))),
        p.Input(id="b", data=p.Data(image=p.Image(base64=b"not text"))),
    ])
    res = api.call("PostModelOutputs", req)
    assert res.code == SC.MIXED_STATUS
    first, second = res.msg.outputs
    assert first.input.id == "a" and first.status.code == SC.SUCCESS and first.data.text.raw == "world big hello"
    assert second.input.id == "b" and second.status.code == SC.MODEL_INVALID_ARGUMENT
