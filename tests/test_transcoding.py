"""Pure transcoding rules: binding choice, path templates, query strings, and the gateway inverse."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarifai_grpc_client import TranscodingError
from clarifai_grpc_client._transcoding import PathTemplate, Router, encode_request, service_rules
from clarifai_grpc_client.proto import (
    Concept,
    Data,
    DeleteInputsRequest,
    GetInputRequest,
    Input,
    ListInputsRequest,
    PostInputsRequest,
    PostModelOutputsRequest,
    PostWorkflowResultsRequest,
    StreamInputsRequest,
    UserAppIDSet,
)
from clarifai_grpc_client.proto.clarifai.api import service_pb2

V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
RULES = service_rules(V2)
ROUTER = Router.for_service(V2)


def rule(name: str):  # type: ignore[no-untyped-def]
    return RULES[f"/clarifai.api.V2/{name}"]


def test_every_v2_method_has_bindings() -> None:
    assert len(RULES) == len(V2.methods) >= 273
    assert all(r.bindings for r in RULES.values())


def test_binding_choice_follows_declared_order_and_defaults_user_to_me() -> None:
    full = encode_request(rule("PostModelOutputs"), PostModelOutputsRequest(user_app_id=UserAppIDSet(user_id="u", app_id="a"), model_id="m", version_id="v"))
    assert full.path == "/v2/users/u/apps/a/models/m/versions/v/outputs"
    me = encode_request(rule("PostModelOutputs"), PostModelOutputsRequest(user_app_id=UserAppIDSet(app_id="a"), model_id="m"))
    assert me.path == "/v2/users/me/apps/a/models/m/outputs"
    bare = encode_request(rule("PostModelOutputs"), PostModelOutputsRequest(model_id="m"))
    assert bare.path == "/v2/models/m/outputs"
    deployment = PostModelOutputsRequest()
    deployment.runner_selector.deployment.user_id = "owner"
    deployment.runner_selector.deployment.id = "dep-1"
    assert encode_request(rule("PostModelOutputs"), deployment).path == "/v2/users/owner/deployments/dep-1/outputs"


def test_a_request_that_fills_no_route_is_a_clear_error() -> None:
    with pytest.raises(TranscodingError, match="GetInput.*input_id"):
        encode_request(rule("GetInput"), GetInputRequest())


def test_body_star_excludes_path_fields_and_keeps_default_floats() -> None:
    req = PostInputsRequest(user_app_id=UserAppIDSet(user_id="u", app_id="a"), inputs=[Input(id="i", data=Data(concepts=[Concept(id="c", value=0)]))])
    http = encode_request(rule("PostInputs"), req)
    assert (http.verb, http.path) == ("POST", "/v2/users/u/apps/a/inputs")
    assert http.body == {"inputs": [{"id": "i", "data": {"concepts": [{"id": "c", "value": 0.0}]}}]}


def test_delete_with_body_and_get_with_query() -> None:
    http = encode_request(rule("DeleteInputs"), DeleteInputsRequest(user_app_id=UserAppIDSet(app_id="a"), ids=["x", "y"]))
    assert http.verb == "DELETE" and http.body == {"ids": ["x", "y"]} and not http.query
    q = encode_request(rule("StreamInputs"), StreamInputsRequest(per_page=5, last_id="k 1", descending=True))
    assert q.url_path() == "/v2/inputs/stream?per_page=5&last_id=k%201&descending=true"


def test_path_values_are_one_encoded_segment() -> None:
    http = encode_request(rule("GetInput"), GetInputRequest(user_app_id=UserAppIDSet(app_id="my app"), input_id="a/b?c"))
    assert http.path == "/v2/users/me/apps/my%20app/inputs/a%2Fb%3Fc"
    match = ROUTER.match("GET", http.path)
    assert match is not None and match.path_params["input_id"] == "a/b?c"


def test_repeated_messages_cannot_go_in_a_query() -> None:
    req = PostWorkflowResultsRequest()
    with pytest.raises(TranscodingError):
        PathTemplate.parse("no-slash")
    from clarifai_grpc_client._transcoding import query_params

    req.inputs.add(id="x")
    with pytest.raises(TranscodingError, match="repeated message"):
        query_params(req)


def test_router_prefers_literal_segments() -> None:
    stream = ROUTER.match("GET", "/v2/users/me/apps/a/inputs/stream")
    get = ROUTER.match("GET", "/v2/users/me/apps/a/inputs/some-id")
    assert stream is not None and stream.rule.method.name == "StreamInputs"
    assert get is not None and get.rule.method.name == "GetInput"
    assert ROUTER.match("GET", "/v2/nothing/here") is None
    assert "POST" in ROUTER.allowed_verbs("/v2/inputs")


def test_gateway_rejects_unknown_or_malformed_parameters() -> None:
    match = ROUTER.match("GET", "/v2/inputs")
    assert match is not None
    with pytest.raises(TranscodingError, match="unknown parameter 'nope'"):
        match.decode([("nope", "1")], None, ListInputsRequest())
    with pytest.raises(TranscodingError, match="page='two'"):
        match.decode([("page", "two")], None, ListInputsRequest())
    post = ROUTER.match("POST", "/v2/inputs")
    assert post is not None
    with pytest.raises(TranscodingError, match="not valid JSON"):
        post.decode([], b"{bad", PostInputsRequest())


segment = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(user=segment, app=segment, input_id=segment)
def test_path_template_inverts_itself(user: str, app: str, input_id: str) -> None:
    tpl = PathTemplate.parse("/v2/users/{user_app_id.user_id}/apps/{user_app_id.app_id}/inputs/{input_id}")
    values = {"user_app_id.user_id": user, "user_app_id.app_id": app, "input_id": input_id}
    assert tpl.match(tpl.expand(values)) == values


@settings(max_examples=60)
@given(
    app=segment,
    page=st.integers(0, 2**31 - 1),
    per_page=st.integers(0, 1000),
    ids=st.lists(segment, max_size=4),
)
def test_query_requests_round_trip_through_the_gateway(app: str, page: int, per_page: int, ids: list[str]) -> None:
    req = ListInputsRequest(user_app_id=UserAppIDSet(user_id="me", app_id=app), page=page, per_page=per_page, ids=ids)
    http = encode_request(rule("ListInputs"), req)
    parts = urlsplit(http.url_path())
    from urllib.parse import unquote

    match = ROUTER.match(http.verb, parts.path)
    assert match is not None
    back = match.decode(parse_qsl(parts.query, keep_blank_values=True), None, ListInputsRequest())
    assert back == req
    assert unquote(parts.path).count("/") >= 5
