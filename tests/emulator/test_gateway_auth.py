"""The HTTP gateway as curl would use it, authentication on both transports, apps, status codes, unimplemented RPCs."""

from __future__ import annotations

import base64
import http.client
import json

import grpc
import httpx
import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator, imaging

from .conftest import KEY, SC, GrpcApi, HttpApi

Api = GrpcApi | HttpApi


def test_curl_style_snake_case(http: httpx.Client) -> None:
    png = base64.b64encode(imaging.encode_png(1, 1, b"\x00\x80\x00")).decode()
    body = {"inputs": [{"id": "s1", "data": {"image": {"base64": png}, "metadata": {"my_key": {"inner_key": 1}},
                                             "concepts": [{"id": "leaf"}, {"id": "tree", "value": 0}]}}]}
    r = http.post("/v2/users/me/apps/main/inputs", json=body)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["status"]["code"] == SC.SUCCESS and doc["status"]["req_id"] == r.headers["x-clarifai-request-id"]
    inp = doc["inputs"][0]
    assert inp["data"]["metadata"] == {"my_key": {"inner_key": 1}}  # struct keys are not renamed
    assert [(c["id"], c["value"]) for c in inp["data"]["concepts"]] == [("leaf", 1.0), ("tree", 0.0)]
    assert inp["status"]["code"] == SC.INPUT_DOWNLOAD_SUCCESS  # numbers, as the service writes them
    got = http.get("/v2/inputs/s1").json()["input"]
    assert got["data"]["image"]["image_info"]["format"] == "PNG"


def test_curl_style_lower_camel_case(http: httpx.Client) -> None:
    r = http.post("/v2/inputs", json={"inputs": [{"id": "c1", "data": {"text": {"raw": "rain and snow"}}}]})
    assert r.status_code == 200
    r = http.post("/v2/models/text-keywords/outputs", json={
        "inputs": [{"data": {"text": {"raw": "rain and snow and sun"}}}],
        "model": {"outputInfo": {"outputConfig": {"maxConcepts": 1, "minValue": 0.1}}}})
    assert r.status_code == 200, r.text
    concepts = r.json()["outputs"][0]["data"]["concepts"]
    assert [c["id"] for c in concepts] == ["weather"] and concepts[0]["value"] == pytest.approx(0.875)
    r = http.post("/v2/inputs/searches", json={"searches": [{"query": {"filters": [{"input": {"id": "c1"}}]}}],
                                               "pagination": {"perPage": 5}})
    assert [h["input"]["id"] for h in r.json()["hits"]] == ["c1"]
    r = http.get("/v2/inputs/stream", params={"perPage": 1, "orderById": "true"})
    assert r.status_code == 200 and [i["id"] for i in r.json()["inputs"]] == ["c1"]


def test_query_parameters(http: httpx.Client) -> None:
    for i in range(3):
        http.post("/v2/inputs", json={"inputs": [{"id": f"q{i}", "data": {"text": {"raw": "x"}}}]})
    r = http.get("/v2/users/me/apps/main/inputs", params=[("per_page", "2"), ("page", "2")])
    assert [i["id"] for i in r.json()["inputs"]] == ["q0"]
    r = http.get("/v2/inputs", params=[("ids", "q1"), ("ids", "q2"), ("status.code", "INPUT_DOWNLOAD_SUCCESS")])
    assert sorted(i["id"] for i in r.json()["inputs"]) == ["q1", "q2"]
    r = http.get("/v2/inputs", params={"per_page": "lots"})
    assert r.status_code == 400
    assert r.json()["status"]["code"] == SC.CONN_BAD_REQUEST_FORMAT and "per_page" in r.json()["status"]["description"]
    r = http.get("/v2/inputs", params={"unknown_thing": "1"})
    assert r.status_code == 400 and "unknown_thing" in r.json()["status"]["description"]


def test_gateway_errors(http: httpx.Client) -> None:
    r = http.get("/v2/not/a/route")
    assert r.status_code == 404 and r.json()["status"]["code"] == SC.RPC_UNKNOWN_METHOD and r.json()["status"]["req_id"]
    r = http.put("/v2/inputs", json={})
    assert r.status_code == 405 and r.json()["status"]["code"] == SC.CONN_METHOD_NOT_ALLOWED
    assert "POST" in r.headers["allow"]
    r = http.post("/v2/inputs", content=b'{"inputs": [', headers={"content-type": "application/json"})
    assert r.status_code == 400
    st = r.json()["status"]
    assert st["code"] == SC.CONN_BAD_REQUEST_FORMAT and "JSON" in st["description"]
    r = http.post("/v2/inputs", json={"inputs": "not a list"})
    assert r.status_code == 400 and "PostInputsRequest" in r.json()["status"]["description"]


def test_keep_alive_connection_reused(emu: Emulator) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", emu.http_port, timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/v2/inputs", headers={"Authorization": f"Key {KEY}"})
            resp = conn.getresponse()
            assert resp.status == 200 and resp.getheader("Connection") != "close"
            json.loads(resp.read())
        conn.request("GET", "/v2/nowhere")  # errors keep the connection usable too
        assert conn.getresponse().status == 404
    finally:
        conn.close()


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_auth_failures_over_http(emu: Emulator, key: str | None) -> None:
    headers = {"Authorization": f"Key {key}"} if key else {}
    r = httpx.get(emu.http_base + "/v2/inputs", headers=headers)
    assert r.status_code == 401
    st = r.json()["status"]
    assert st["code"] == (SC.CONN_KEY_NOT_FOUND if key else SC.CONN_INVALID_REQUEST)
    assert (key or "") not in st.get("details", "") or not key
    r = httpx.post(emu.http_base + "/v2/inputs", headers=headers, json={"inputs": [{"data": {"text": {"raw": "x"}}}]})
    assert r.status_code == 401
    ok = httpx.get(emu.http_base + "/v2/inputs", headers={"Authorization": f"Key {KEY}"}).json()
    assert ok["inputs"] == []  # nothing was written


@pytest.mark.parametrize("metadata", [(), (("authorization", "Key wrong-key"),), (("authorization", "Bearer " + KEY),)])
def test_auth_failures_over_grpc(emu: Emulator, metadata: tuple[tuple[str, str], ...]) -> None:
    with grpc.insecure_channel(emu.grpc_target) as ch:
        resp = p.V2Stub(ch).ListInputs(p.ListInputsRequest(), metadata=metadata)  # transport OK, status in the body
    expected = SC.CONN_KEY_NOT_FOUND if metadata and "wrong" in metadata[0][1] else SC.CONN_INVALID_REQUEST
    assert resp.status.code == expected and resp.status.req_id


def test_other_users_and_missing_apps(api: Api) -> None:
    r = api.call("ListInputs", p.ListInputsRequest(user_app_id=p.UserAppIDSet(user_id="someone-else", app_id="main")))
    assert r.code == SC.CONN_KEY_INVALID and r.http_status in (None, 401)
    r = api.call("ListInputs", p.ListInputsRequest(user_app_id=p.UserAppIDSet(user_id="me", app_id="nope")))
    assert r.code == SC.CONN_DOES_NOT_EXIST
    r = api.call("PostInputs", p.PostInputsRequest(user_app_id=p.UserAppIDSet(user_id="clarifai", app_id="main"),
                                                   inputs=[p.Input(data=p.Data(text=p.Text(raw="x")))]))
    assert r.code == SC.CONN_INSUFFICIENT_SCOPES


def test_apps(api: Api) -> None:
    assert [a.id for a in api.call("ListApps", p.ListAppsRequest()).msg.apps] == ["main"]
    r = api.call("PostApps", p.PostAppsRequest(user_app_id=p.UserAppIDSet(user_id="me"), apps=[p.App(id="second", description="d")]))
    assert r.code == SC.SUCCESS and r.msg.apps[0].user_id == "emulator-user"
    assert api.call("PostApps", p.PostAppsRequest(user_app_id=p.UserAppIDSet(user_id="me"), apps=[p.App(id="second")])).code \
        == SC.DATABASE_DUPLICATE_KEY
    assert sorted(a.id for a in api.call("ListApps", p.ListAppsRequest()).msg.apps) == ["main", "second"]
    second = p.UserAppIDSet(user_id="me", app_id="second")
    assert api.call("GetApp", p.GetAppRequest(user_app_id=second)).msg.app.description == "d"
    assert api.call("GetApp", p.GetAppRequest()).msg.app.id == "main"
    # apps are separate: an input of the second app is not in main
    assert api.call("PostInputs", p.PostInputsRequest(user_app_id=second, inputs=[p.Input(id="only2", data=p.Data(text=p.Text(raw="x")))])).code == SC.SUCCESS
    assert api.call("GetInput", p.GetInputRequest(input_id="only2")).code == SC.INPUT_DOES_NOT_EXIST
    assert api.call("GetInput", p.GetInputRequest(user_app_id=second, input_id="only2")).code == SC.SUCCESS


def test_status_codes(api: Api) -> None:
    codes = api.call("ListStatusCodes", p.ListStatusCodesRequest()).msg.statuses
    names = {s.code: s.description for s in codes}
    assert names[SC.CONN_KEY_NOT_FOUND] == "API key not found" and len(codes) > 300
    got = api.call("GetStatusCode", p.GetStatusCodeRequest(status_code_id="11005"))
    assert got.code == SC.CONN_THROTTLED and got.http_status in (None, 200)
    assert api.call("GetStatusCode", p.GetStatusCodeRequest(status_code_id="CONN_KEY_INVALID")).code == SC.CONN_KEY_INVALID
    assert api.call("GetStatusCode", p.GetStatusCodeRequest(status_code_id="424242")).code == SC.CONN_DOES_NOT_EXIST
