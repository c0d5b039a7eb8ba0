"""The committed stubs are exactly what scripts/generate.py produces from protos/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_public_names_import() -> None:
    from clarifai_grpc_client.proto import (  # noqa: F401
        Input,
        ListInputsRequest,
        PostModelOutputsRequest,
        PostWorkflowResultsRequest,
        Status,
        StatusCode,
        V2Stub,
    )

    assert Status.DESCRIPTOR.full_name == "clarifai.api.status.Status"
    assert StatusCode.Value("CONN_THROTTLED") == 11005


def test_descriptor_set_ships_with_the_package() -> None:
    from importlib import resources

    from google.protobuf import descriptor_pb2

    root = resources.files("clarifai_grpc_client.proto")
    fds = descriptor_pb2.FileDescriptorSet.FromString((root / "clarifai_v2.binpb").read_bytes())
    names = {f.name for f in fds.file}
    assert "clarifai/api/service.proto" in names and "google/api/http.proto" in names
    assert (root / "clarifai" / "api" / "service.proto").is_file()
    service = next(f for f in fds.file if f.name == "clarifai/api/service.proto")
    assert service.source_code_info.location, "source info (comments) is included"


def test_every_generated_module_has_typed_stubs() -> None:
    proto = ROOT / "clarifai_grpc_client" / "proto"
    modules = sorted(proto.rglob("*_pb2.py")) + sorted(proto.rglob("*_pb2_grpc.py"))
    assert modules
    missing = [str(p.relative_to(proto)) for p in modules if not p.with_suffix(".pyi").is_file()]
    assert not missing


def test_stub_types_follow_each_rpcs_streaming_shape() -> None:
    """Sync and aio stubs type every RPC with the multicallable of its shape (the 9 streaming ones too)."""
    from clarifai_grpc_client.proto.clarifai.api import service_pb2

    text = (ROOT / "clarifai_grpc_client" / "proto" / "clarifai" / "api" / "service_pb2_grpc.pyi").read_text()
    shapes = {(False, False): "UnaryUnary", (False, True): "UnaryStream", (True, False): "StreamUnary", (True, True): "StreamStream"}
    methods = service_pb2.DESCRIPTOR.services_by_name["V2"].methods
    streaming = 0
    for m in methods:
        shape = shapes[(m.client_streaming, m.server_streaming)]
        streaming += shape != "UnaryUnary"
        for module in ("_grpc", "_aio"):
            assert f"    {m.name}: {module}.{shape}MultiCallable[" in text, (m.name, module)
    assert streaming == sum(1 for m in methods if m.client_streaming or m.server_streaming) > 0
