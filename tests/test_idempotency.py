"""The per-RPC rule that decides whether a lost reply may be retried."""

from __future__ import annotations

import pytest

from clarifai_grpc_client._idempotency import is_idempotent
from clarifai_grpc_client.proto import (
    Annotation,
    Concept,
    DeleteInputsRequest,
    Input,
    ListInputsRequest,
    PatchInputsRequest,
    PostAnnotationsRequest,
    PostConceptsRequest,
    PostInputsRequest,
    PostInputsSearchesRequest,
    PostModelOutputsRequest,
    PostWorkflowResultsRequest,
)


@pytest.mark.parametrize(
    "method, request_, expected",
    [
        ("/clarifai.api.V2/ListInputs", ListInputsRequest(), True),
        ("/clarifai.api.V2/PostModelOutputs", PostModelOutputsRequest(), True),
        ("/clarifai.api.V2/PostWorkflowResults", PostWorkflowResultsRequest(), True),
        ("/clarifai.api.V2/PostInputsSearches", PostInputsSearchesRequest(), True),
        ("/clarifai.api.V2/PatchInputs", PatchInputsRequest(), True),
        ("/clarifai.api.V2/DeleteInputs", DeleteInputsRequest(ids=["a"]), True),
        ("/clarifai.api.V2/PostInputs", PostInputsRequest(inputs=[Input(id="a"), Input(id="b")]), True),
        ("/clarifai.api.V2/PostInputs", PostInputsRequest(inputs=[Input(id="a"), Input()]), False),
        ("/clarifai.api.V2/PostInputs", PostInputsRequest(), False),
        ("/clarifai.api.V2/PostConcepts", PostConceptsRequest(concepts=[Concept(id="dog")]), True),
        ("/clarifai.api.V2/PostAnnotations", PostAnnotationsRequest(annotations=[Annotation(input_id="i")]), False),
        ("/clarifai.api.V2/GenerateModelOutputs", PostModelOutputsRequest(), True),
        ("/clarifai.api.V2/StreamModelOutputs", None, True),  # bidi: judged by name, requests unseen
        ("/test.Service/Join", None, False),
    ],
)
def test_rule_per_rpc(method: str, request_: object, expected: bool) -> None:
    assert is_idempotent(method, request_) is expected  # type: ignore[arg-type]
