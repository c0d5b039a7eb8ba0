"""Start, stop, restart: persistence, ports, threads, health, reflection, large messages and the CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from clarifai_grpc_client import proto as p
from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SC, GrpcApi

MD = (("authorization", f"Key {KEY}"),)


def _fill(api: GrpcApi) -> None:
    assert api.call("PostInputs", p.PostInputsRequest(inputs=[
        p.Input(id="keep", data=p.Data(text=p.Text(raw="a dog"), concepts=[p.Concept(id="dog", value=1)]))])).code == SC.SUCCESS
    assert api.call("PostAnnotations", p.PostAnnotationsRequest(annotations=[
        p.Annotation(id="ann", input_id="keep", data=p.Data(concepts=[p.Concept(id="pet", value=1)]))])).code == SC.SUCCESS
    assert api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[
        p.Workflow(id="wf", nodes=[p.WorkflowNode(id="n", model=p.Model(id="text-keywords"))])])).code == SC.SUCCESS
    assert api.call("PostApps", p.PostAppsRequest(apps=[p.App(id="other")])).code == SC.SUCCESS


def _check(api: GrpcApi) -> None:
    assert api.call("GetInput", p.GetInputRequest(input_id="keep")).msg.input.data.text.raw == "a dog"
    assert sorted(c.id for c in api.call("ListConcepts", p.ListConceptsRequest()).msg.concepts) == ["dog", "pet"]
    assert [a.id for a in api.call("ListAnnotations", p.ListAnnotationsRequest()).msg.annotations] == ["ann"]
    assert api.call("GetWorkflow", p.GetWorkflowRequest(workflow_id="wf")).code == SC.SUCCESS
    assert sorted(a.id for a in api.call("ListApps", p.ListAppsRequest()).msg.apps) == ["main", "other"]
    hits = api.call("PostInputsSearches", p.PostInputsSearchesRequest(searches=[p.Search(query=p.Query(
        ranks=[p.Rank(annotation=p.Annotation(input_id="keep"))]))])).msg.hits
    assert hits[0].input.id == "keep" and hits[0].score > 0.99  # the embedding survived too


def test_restart_on_same_db_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    with Emulator(db_path=db, keys=(KEY,)) as emu:
        api = GrpcApi(emu)
        _fill(api)
        api.close()
        ports = (emu.grpc_port, emu.http_port)
        emu.restart()
        assert (emu.grpc_port, emu.http_port) == ports
        api = GrpcApi(emu)
        _check(api)
        api.close()
    assert db.exists()
    with Emulator(db_path=db, keys=(KEY,)) as again:  # a new process-like instance on the same file
        api = GrpcApi(again)
        _check(api)
        api.close()


def test_temporary_database_is_removed(emu: Emulator) -> None:
    path = emu.db_path
    assert path is not None and os.path.exists(path)
    emu.restart()  # a restart keeps the temporary database
    assert emu.db_path == path and os.path.exists(path)
    emu.stop()
    assert not os.path.exists(path) and emu.db_path is None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_stop_leaks_no_threads_or_ports() -> None:
    baseline = set(threading.enumerate())
    emu = Emulator(keys=(KEY,)).start()
    grpc_port, http_port = emu.grpc_port, emu.http_port
    client = httpx.Client(base_url=emu.http_base, headers={"Authorization": f"Key {KEY}"})
    assert client.get("/v2/inputs").status_code == 200  # leaves a keep-alive connection open on the server
    with grpc.insecure_channel(emu.grpc_target) as ch:
        assert p.V2Stub(ch).ListInputs(p.ListInputsRequest(), metadata=MD).status.code == SC.SUCCESS
    assert any(t.name.startswith("emulator-") for t in threading.enumerate())
    emu.stop()
    emu.stop()  # idempotent
    client.close()
    deadline = time.monotonic() + 5
    while True:
        leaked = [t for t in set(threading.enumerate()) - baseline if t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert leaked == []
    assert _port_free(grpc_port) and _port_free(http_port)


def test_health_and_reflection(emu: Emulator) -> None:
    with grpc.insecure_channel(emu.grpc_target) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for service in ("", "clarifai.api.V2"):
            assert health.Check(health_pb2.HealthCheckRequest(service=service)).status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        answers = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        names = {s.name for s in answers[0].list_services_response.service}
        assert {"clarifai.api.V2", "grpc.health.v1.Health"} <= names
        file_answer = list(stub.ServerReflectionInfo(iter([
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="clarifai.api.V2")])))
        assert file_answer[0].file_descriptor_response.file_descriptor_proto


def test_messages_larger_than_grpc_default(emu: Emulator) -> None:
    big = os.urandom(6 * 1024 * 1024)
    opts = [("grpc.max_receive_message_length", 64 * 1024 * 1024), ("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(emu.grpc_target, options=opts) as ch:
        resp = p.V2Stub(ch).PostInputs(p.PostInputsRequest(inputs=[p.Input(id="big", data=p.Data(video=p.Video(base64=big)))]),
                                       metadata=MD)
        assert resp.status.code == SC.SUCCESS
        got = p.V2Stub(ch).GetInput(p.GetInputRequest(input_id="big"), metadata=MD)
        assert got.input.data.video.base64 == big


def test_cli_serves_until_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    cmd = [sys.executable, "-m", "clarifai_grpc_client.emulator", "--db", str(db), "--key", "cli-key",
           "--fail-next", "ListInputs:1:throttled", "--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Clarifai emulator: gRPC 127.0.0.1:"), line
        http_base = line.split("HTTP ")[1].strip()
        headers = {"Authorization": "Key cli-key"}
        assert httpx.get(http_base + "/v2/inputs", headers=headers).status_code == 429
        assert httpx.post(http_base + "/v2/inputs", headers=headers,
                          json={"inputs": [{"id": "from-cli", "data": {"text": {"raw": "x"}}}]}).status_code == 200
        assert httpx.get(http_base + "/v2/inputs", headers={"Authorization": "Key other"}).status_code == 401
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in out and "cli-key" not in out + err  # keys are never printed or logged
    with Emulator(db_path=db, keys=("cli-key",)) as emu:
        r = httpx.get(emu.http_base + "/v2/inputs/from-cli", headers={"Authorization": "Key cli-key"})
        assert r.status_code == 200


def test_cli_prints_a_generated_key() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "clarifai_grpc_client.emulator", "--log-level", "WARNING"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        http_base = proc.stdout.readline().split("HTTP ")[1].strip()
        proc.stdout.readline()  # database line
        key = proc.stdout.readline().rsplit(" ", 1)[1].strip()
        assert httpx.get(http_base + "/v2/inputs", headers={"Authorization": f"Key {key}"}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
