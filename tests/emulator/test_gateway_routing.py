"""Gateway routing: a trailing slash routes as the service routes it, and "no such route" is not "no such resource"."""

from __future__ import annotations

import httpx
import pytest

from clarifai_grpc_client import proto as p

from .conftest import SC, GrpcApi


@pytest.mark.parametrize("path", [
    "/v2/users/me/apps/main/models/",
    "/v2/models/",
    "/v2/users/me/apps/main/inputs/",
    "/v2/users/me/apps/main/concepts/",
    "/v2/users/me/apps/main/workflows/",
    "/v2/users/me/apps/main/datasets/",
])
def test_a_trailing_slash_routes_like_the_path_without_it(http: httpx.Client, path: str) -> None:
    plain, slashed = http.get(path.rstrip("/")), http.get(path)
    assert slashed.status_code == plain.status_code != 404, slashed.text
    assert slashed.json()["status"]["code"] == plain.json()["status"]["code"] != SC.RPC_UNKNOWN_METHOD
    assert slashed.json().keys() == plain.json().keys()


def test_a_trailing_slash_on_a_write_reaches_the_write(http: httpx.Client) -> None:
    r = http.post("/v2/users/me/apps/main/inputs/", json={"inputs": [{"id": "slash1", "data": {"text": {"raw": "x"}}}]})
    assert r.status_code == 200, r.text
    assert http.get("/v2/users/me/apps/main/inputs/slash1/").json()["input"]["id"] == "slash1"


def test_only_one_trailing_slash_is_ignored(http: httpx.Client) -> None:
    r = http.get("/v2/users/me/apps/main/models//")
    assert r.status_code == 404 and r.json()["status"]["code"] == SC.RPC_UNKNOWN_METHOD


def test_no_route_is_told_apart_from_a_missing_resource(http: httpx.Client) -> None:
    typo = http.get("/v2/users/me/apps/main/concepst/c1")
    assert typo.status_code == 404
    st = typo.json()["status"]
    assert st["code"] == SC.RPC_UNKNOWN_METHOD and st["description"] == "No such route"
    assert "GET /v2/users/me/apps/main/concepst/c1" in st["details"] and st["req_id"]
    missing = http.get("/v2/users/me/apps/main/concepts/c1")
    assert missing.status_code == 404
    assert SC.StatusCode.Name(missing.json()["status"]["code"]).endswith("_DOES_NOT_EXIST")


def test_a_missing_resource_over_grpc_gets_the_same_code_as_over_http(http: httpx.Client, grpc_api: GrpcApi) -> None:
    over_http = http.get("/v2/users/me/apps/main/concepts/c1").json()["status"]["code"]
    over_grpc = grpc_api.call("GetConcept", p.GetConceptRequest(concept_id="c1")).code
    assert over_grpc == over_http and over_grpc != SC.RPC_UNKNOWN_METHOD


def test_a_route_of_other_verbs_is_405_with_allow(http: httpx.Client) -> None:
    r = http.put("/v2/users/me/apps/main/inputs/", json={})
    assert r.status_code == 405 and r.json()["status"]["code"] == SC.CONN_METHOD_NOT_ALLOWED
    assert "POST" in r.headers["allow"] and "GET" in r.headers["allow"]


@pytest.mark.parametrize("verb", ["OPTIONS", "HEAD", "TRACE", "FROB"])
def test_verbs_no_route_uses_answer_json(http: httpx.Client, verb: str) -> None:
    r = http.request(verb, "/v2/users/me/apps/main/inputs")
    assert r.status_code == 405 and r.headers["content-type"] == "application/json"
    if verb != "HEAD":  # a HEAD answer has no body by definition
        assert r.json()["status"]["code"] == SC.CONN_METHOD_NOT_ALLOWED and verb in r.json()["status"]["details"]
    r = http.request(verb, "/v2/nowhere")
    assert r.status_code == 404
    if verb != "HEAD":
        assert r.json()["status"]["code"] == SC.RPC_UNKNOWN_METHOD
