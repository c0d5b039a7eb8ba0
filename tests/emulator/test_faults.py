"""Fault injection: unavailable, throttled, dropped, latency; per RPC; deterministic; shared by both transports."""

from __future__ import annotations

import time

import grpc
import httpx
import pytest

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator, FaultKind, FaultRule, Faults

from .conftest import KEY, SC, GrpcApi

BODY = {"inputs": [{"id": "x1", "data": {"text": {"raw": "x"}}}]}


def test_fail_next_unavailable_is_shared_by_both_transports(emu: Emulator, grpc_api: GrpcApi, http: httpx.Client) -> None:
    emu.faults.fail_next("ListInputs", 2)
    with pytest.raises(grpc.RpcError) as err:
        grpc_api.call("ListInputs", p.ListInputsRequest())
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    r = http.get("/v2/inputs")
    assert r.status_code == 503 and r.json()["status"]["code"] == SC.RPC_SERVER_UNAVAILABLE
    assert grpc_api.call("ListInputs", p.ListInputsRequest()).code == SC.SUCCESS
    assert http.get("/v2/inputs").status_code == 200
    assert emu.faults.injected("ListInputs", "unavailable") == 2


def test_throttled_writes_nothing(emu: Emulator, grpc_api: GrpcApi, http: httpx.Client) -> None:
    emu.faults.fail_next("PostInputs", 1, "throttled")
    r = http.post("/v2/inputs", json=BODY)
    assert r.status_code == 429 and r.json()["status"]["code"] == SC.CONN_THROTTLED
    emu.faults.fail_next("PostInputs", 1, FaultKind.THROTTLED)
    res = grpc_api.call("PostInputs", p.PostInputsRequest(inputs=[p.Input(id="x1", data=p.Data(text=p.Text(raw="x")))]))
    assert res.code == SC.CONN_THROTTLED and res.msg.status.req_id
    assert grpc_api.call("GetInput", p.GetInputRequest(input_id="x1")).code == SC.INPUT_DOES_NOT_EXIST
    assert http.post("/v2/inputs", json=BODY).status_code == 200


def test_dropped_response_after_the_work(emu: Emulator, grpc_api: GrpcApi, http: httpx.Client) -> None:
    emu.faults.fail_next("PostInputs", 1, "dropped")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/v2/inputs", json=BODY)
    assert http.get("/v2/inputs/x1").status_code == 200  # the write happened; only the answer was lost
    emu.faults.fail_next("PostInputs", 1, "dropped")
    with pytest.raises(grpc.RpcError) as err:
        grpc_api.call("PostInputs", p.PostInputsRequest(inputs=[p.Input(id="x2", data=p.Data(text=p.Text(raw="x")))]))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert grpc_api.call("GetInput", p.GetInputRequest(input_id="x2")).code == SC.SUCCESS


def test_latency_per_rpc(emu: Emulator, grpc_api: GrpcApi) -> None:
    emu.faults.set("ListInputs", latency=0.3)
    t0 = time.monotonic()
    grpc_api.call("ListInputs", p.ListInputsRequest())
    assert time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    grpc_api.call("ListConcepts", p.ListConceptsRequest())
    assert time.monotonic() - t0 < 0.3
    emu.faults.clear()
    t0 = time.monotonic()
    grpc_api.call("ListInputs", p.ListInputsRequest())
    assert time.monotonic() - t0 < 0.3


def test_rates_are_deterministic_and_per_rpc(grpc_api: GrpcApi, emu: Emulator) -> None:
    def run() -> list[bool]:
        out = []
        for _ in range(30):
            try:
                grpc_api.call("ListInputs", p.ListInputsRequest())
                out.append(True)
            except grpc.RpcError:
                out.append(False)
        return out

    emu.faults.set("ListInputs", unavailable=0.5)
    emu.faults.reseed(11)
    first = run()
    emu.faults.reseed(11)
    assert run() == first
    assert 5 < first.count(False) < 25
    assert grpc_api.call("ListConcepts", p.ListConceptsRequest()).code == SC.SUCCESS  # other RPCs unaffected
    emu.faults.set(throttled=1.0)  # default rule for every RPC without its own
    assert grpc_api.call("ListConcepts", p.ListConceptsRequest()).code == SC.CONN_THROTTLED


def test_faults_given_at_construction() -> None:
    faults = Faults(per_rpc={"/clarifai.api.V2/ListInputs": FaultRule(throttled=1.0)})
    with Emulator(keys=(KEY,), faults=faults) as emu:
        r = httpx.get(emu.http_base + "/v2/inputs", headers={"Authorization": f"Key {KEY}"})
        assert r.status_code == 429
        assert emu.faults is faults and faults.injected(kind="throttled") == 1


def test_fault_rules_validate() -> None:
    with pytest.raises(ValueError):
        FaultRule(unavailable=0.7, throttled=0.5)
    with pytest.raises(ValueError):
        FaultRule(latency=-1)
    with pytest.raises(ValueError):
        Faults().fail_next("X", 1, "none")


def test_decisions_do_not_depend_on_other_rpcs() -> None:
    a, b = Faults(FaultRule(unavailable=0.3, throttled=0.3), seed=5), Faults(FaultRule(unavailable=0.3, throttled=0.3), seed=5)
    seq_a = [a.decide("PostInputs").kind for _ in range(50)]
    seq_b = []
    for _ in range(50):
        b.decide("ListInputs")
        seq_b.append(b.decide("PostInputs").kind)
    assert seq_a == seq_b
    assert {FaultKind.NONE, FaultKind.UNAVAILABLE, FaultKind.THROTTLED} == set(seq_a)
