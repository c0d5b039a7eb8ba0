"""The built wheel carries what users and other languages need, and type checkers see an editable install."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import clarifai_grpc_client

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("clarifai_grpc_client-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_holds_protos_stubs_types_descriptors_and_license(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    protos = sorted(p.relative_to(ROOT / "protos").as_posix() for p in (ROOT / "protos" / "clarifai").rglob("*.proto"))
    assert protos, "no protos in the source tree"
    missing = [p for p in protos if f"clarifai_grpc_client/proto/{p}" not in names]
    assert not missing, f"protos missing from the wheel: {missing}"
    assert "clarifai_grpc_client/py.typed" in names
    assert "clarifai_grpc_client/proto/clarifai_v2.binpb" in names
    pyi = {n for n in names if n.endswith(".pyi")}
    for pb2 in (n for n in names if n.endswith("_pb2.py") or n.endswith("_pb2_grpc.py")):
        assert pb2[:-3] + ".pyi" in pyi, f"{pb2} has no .pyi beside it"
    licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert licenses, "the wheel carries no LICENSE"
    assert "Apache License" in wheel.read(licenses[0]).decode()
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/")) for n in names)


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = email.message_from_bytes(wheel.read(meta_name))
    assert meta["Version"] == clarifai_grpc_client.__version__
    assert meta["License-Expression"] == "Apache-2.0"
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in classifiers)
    assert meta["Requires-Python"]


def test_type_checkers_see_the_installed_package(tmp_path: Path) -> None:
    """mypy, run from outside the source tree, resolves the package as installed (editable or not)."""
    user = tmp_path / "user.py"
    user.write_text("import clarifai_grpc_client\nreveal_type(clarifai_grpc_client.Client)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert "import-not-found" not in proc.stdout and "missing library stubs" not in proc.stdout, proc.stdout
    assert 'Revealed type is "def' in proc.stdout or "Revealed type is \"type[clarifai_grpc_client" in proc.stdout, proc.stdout
