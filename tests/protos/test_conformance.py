"""Our protos against the published V2 descriptors (the oracle runs in its own subprocess)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "seed_rpcs.txt"


def _oracle_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import clarifai_grpc"], capture_output=True)
    return probe.returncode == 0


def test_every_rpc_of_the_reference_is_defined() -> None:
    from clarifai_grpc_client.proto.clarifai.api import service_pb2

    ours = {m.name for m in service_pb2.DESCRIPTOR.services_by_name["V2"].methods}
    seed = set(SEED.read_text().split())
    assert len(seed) == 179
    assert sorted(seed - ours) == []


def test_wire_conformance_with_the_published_api() -> None:
    if not _oracle_available():
        pytest.fail("clarifai-grpc (the conformance oracle) is not installed: pip install '.[test]'")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_conformance.py")], capture_output=True, text=True, timeout=300
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    m = re.search(r"RPCs identical: (\d+)/(\d+); messages identical: (\d+)/(\d+); enums identical: (\d+)/(\d+)", result.stdout)
    assert m, result.stdout[-2000:]
    same_rpc, all_rpc, same_msg, all_msg, same_enum, all_enum = map(int, m.groups())
    assert (same_rpc, same_msg, same_enum) == (all_rpc, all_msg, all_enum)
    assert all_rpc >= 273  # the whole published service (clarifai-grpc 12.6.0 has 273 RPCs), not only the reference list
    assert "differences: 0" in result.stdout


def test_the_check_catches_a_missing_rpc(tmp_path: Path) -> None:
    """An RPC of the published service that our protos lack fails the whole-service check."""
    import shutil

    copy = tmp_path / "protos"
    shutil.copytree(ROOT / "protos", copy)
    service = copy / "clarifai" / "api" / "service.proto"
    text = service.read_text()
    start = text.index("  rpc GenerateModelOutputs(")
    end = text.index("\n  }\n", start) + len("\n  }\n")
    service.write_text(text[:start] + text[end:])
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_conformance.py"), "--protos", str(copy)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "rpc GenerateModelOutputs: missing from our protos" in result.stdout


def test_the_check_catches_a_changed_field_number(tmp_path: Path) -> None:
    """The conformance check is not vacuous: a one-number edit in a copy of protos/ fails it."""
    copy = tmp_path / "protos"
    import shutil

    shutil.copytree(ROOT / "protos", copy)
    concepts = copy / "clarifai" / "api" / "concepts.proto"
    text = concepts.read_text()
    assert "string name = 2;" in text
    concepts.write_text(text.replace("string name = 2;", "string name = 99;", 1))
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_conformance.py"), "--protos", str(copy), "--file", "clarifai/api/concepts.proto"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "clarifai.api.Concept: fields.name.number: ours 99 != published 2" in result.stdout
