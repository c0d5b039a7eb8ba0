"""JSON request bodies: unknown fields and enum names are refused by name, deep nesting is a 400, valid forms still read."""

from __future__ import annotations

import httpx
import pytest

from .conftest import SC

INPUT = {"id": "j1", "data": {"text": {"raw": "hello"}}}


def refused(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    st = r.json()["status"]
    assert st["code"] == SC.CONN_BAD_REQUEST_FORMAT and st["req_id"]
    return str(st["details"])


@pytest.mark.parametrize(("body", "named"), [
    ({"inputs": [INPUT], "input_id_conflict_resolution": "NOPE"}, "NOPE"),
    ({"inputs": [INPUT], "inputIdConflictResolution": "SKIPP"}, "SKIPP"),
    ({"inputs": [INPUT], "bogus_field": 1}, "bogus_field"),
    ({"inputs": [{"id": "j1", "dataa": {"text": {"raw": "x"}}}]}, "dataa"),
    ({"inputs": [{"id": "j1", "data": {"text": {"raw": "x", "colour": "red"}}}]}, "colour"),
    ({"inputs": [{"id": "j1", "data": {"concepts": [{"id": "c", "value": 1, "nmae": "n"}]}}]}, "nmae"),
], ids=["enum-name", "enum-camel", "top-field", "nested-field", "deeper-field", "repeated-item-field"])
def test_unknown_names_are_refused_and_named(http: httpx.Client, body: dict[str, object], named: str) -> None:
    assert named in refused(http.post("/v2/inputs", json=body))
    assert http.get("/v2/inputs/j1").status_code == 404  # nothing was written


def test_an_unknown_enum_name_in_a_predict_body_is_refused(http: httpx.Client) -> None:
    body = {"inputs": [INPUT], "model": {"output_info": {"output_config": {"sort_order": "SIDEWAYS"}}}}
    details = refused(http.post("/v2/models/text-keywords/outputs", json=body))
    assert "SIDEWAYS" in details or "sort_order" in details or "output_config" in details


@pytest.mark.parametrize("body", [
    {"inputs": [INPUT], "input_id_conflict_resolution": "SKIP"},
    {"inputs": [INPUT], "inputIdConflictResolution": 1},
    {"inputs": [{"id": "j1", "data": {"text": {"raw": "hello"}, "metadata": {"any": {"nested": ["keys", 1, None]}}}}]},
    {"inputs": [{"id": "j1", "data": {"text": {"raw": "hello"}, "concepts": [{"id": "c", "value": 0}]}}]},
], ids=["enum-name", "enum-number-camel", "struct-keys", "zero-value"])
def test_everything_the_service_accepts_still_reads(http: httpx.Client, body: dict[str, object]) -> None:
    r = http.post("/v2/inputs", json=body)
    assert r.status_code == 200, r.text
    assert http.get("/v2/inputs/j1").json()["input"]["data"]["text"]["raw"] == "hello"


@pytest.mark.parametrize("depth", [5_000, 20_000, 100_000])
@pytest.mark.parametrize("shape", ["arrays", "objects", "in-a-field"])
def test_deeply_nested_bodies_get_a_400(http: httpx.Client, depth: int, shape: str) -> None:
    if shape == "arrays":
        doc = "[" * depth + "]" * depth
    elif shape == "objects":
        doc = '{"a":' * depth + "1" + "}" * depth
    else:
        doc = '{"inputs":[{"data":{"metadata":' + '{"k":' * depth + "1" + "}" * depth + "}}]}"
    r = http.post("/v2/inputs", content=doc.encode(), headers={"content-type": "application/json"})
    assert "nested too deeply" in refused(r)
    assert http.get("/v2/inputs").status_code == 200  # the same keep-alive connection goes on


@pytest.mark.parametrize("depth", [40, 101, 300, 900])
def test_struct_values_deeper_than_protobuf_reads_are_refused_not_crashed(http: httpx.Client, depth: int) -> None:
    doc = '{"inputs":[{"id":"j1","data":{"text":{"raw":"x"},"metadata":' + '{"k":' * depth + "1" + "}" * depth + "}}]}"
    r = http.post("/v2/inputs", content=doc.encode(), headers={"content-type": "application/json"})
    assert "nested too deeply" in refused(r)


def test_struct_values_within_the_limit_are_stored(http: httpx.Client) -> None:
    doc = '{"inputs":[{"id":"j1","data":{"text":{"raw":"hello"},"metadata":' + '{"k":' * 25 + "1" + "}" * 25 + "}}]}"
    r = http.post("/v2/inputs", content=doc.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_not_json_and_not_utf8_are_named(http: httpx.Client) -> None:
    assert "not valid JSON" in refused(http.post("/v2/inputs", content=b'{"inputs": [', headers={"content-type": "application/json"}))
    assert "not valid JSON" in refused(http.post("/v2/inputs", content=b'{"inputs": "\xff\xfe"}'))
