"""scripts/gen_other_languages.py: the protos generate C++, Java, Go and TypeScript that compile.

Each language's test is skipped, with the script's own reason, when its toolchain is not on the
machine (a full protoc with matching C++ headers or protobuf-java jar, javac, g++, go with the Go
protobuf sources, node and npm). The TypeScript tools are installed from npm into
.cache/protos-toolchains/node on first use.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_other_languages.py"


def _load() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        return importlib.import_module("gen_other_languages")
    finally:
        sys.path.remove(str(SCRIPT.parent))


gol = _load()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("lang", gol.LANGS)
def test_generated_code_compiles(lang: str, tmp_path: Path) -> None:
    reason = gol.unavailable(lang)
    if reason:
        pytest.skip(f"{lang} toolchain absent: {reason}")
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--lang", lang, "--check"]
        + ["--out", str(tmp_path / "out"), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=290,
        cwd=ROOT,
    )
    assert report.is_file(), proc.stdout + proc.stderr
    outcomes = json.loads(report.read_text())
    skipped = [o for o in outcomes if o["status"] == "skipped"]
    if skipped:
        pytest.skip(f"{lang} toolchain absent: {skipped[0]['detail']}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [(o["step"], o["status"]) for o in outcomes] == [("generate", "ok"), ("check", "ok")], proc.stdout
    assert any((tmp_path / "out" / lang).rglob("*")), "nothing was generated"


def test_ts_check_catches_a_type_error(tmp_path: Path) -> None:
    """The TypeScript check really type-checks: a broken generated file fails it."""
    if gol.unavailable("ts"):
        pytest.skip(f"ts toolchain absent: {gol.unavailable('ts')}")
    out = tmp_path / "ts"
    try:
        gol.generate("ts", gol.protoc.PROTOS, out)
    except gol.Skip as e:
        pytest.skip(f"ts toolchain absent: {e}")
    matrix = out / "clarifai/api/utils/matrix.ts"
    text = matrix.read_text()
    assert "nCols: number;" in text
    matrix.write_text(text.replace("nCols: number;", "nCols: string;", 1))
    with pytest.raises(gol.Failed, match="matrix.ts"):
        gol.check("ts", out)


def test_go_layout_matches_go_package(tmp_path: Path) -> None:
    """Go output is laid out as the module that the protos' go_package options name."""
    if gol.unavailable("go", check_too=False):
        pytest.skip(f"go toolchain absent: {gol.unavailable('go', check_too=False)}")
    out = tmp_path / "go"
    gol.generate("go", gol.protoc.PROTOS, out)
    assert (out / "clarifai/api/service.pb.go").is_file()
    assert (out / "clarifai/api/utils/matrix.pb.go").is_file()
    assert "package api" in (out / "clarifai/api/concepts.pb.go").read_text()


@pytest.mark.parametrize(("lang", "stub"), [("java", "com/clarifai/grpc/api/V2Grpc.java"), ("cpp", "clarifai/api/service.grpc.pb.cc")])
def test_stub_check_needs_every_rpc(lang: str, stub: str, tmp_path: Path) -> None:
    """The C++ and Java checks fail when the generated V2 stub lacks one RPC of the service."""
    if gol.unavailable(lang):
        pytest.skip(f"{lang} toolchain absent: {gol.unavailable(lang)}")
    out = tmp_path / lang
    gol.generate(lang, gol.protoc.PROTOS, out)
    path = out / stub
    text = path.read_text()
    needle = '"PostModelOutputs"' if lang == "java" else '"/clarifai.api.V2/PostModelOutputs"'
    assert needle in text
    path.write_text(text.replace(needle, needle.replace("PostModelOutputs", "PostModelOutputz")))
    with pytest.raises(gol.Failed, match="lacks 1 of"):
        gol.check(lang, out)


def test_unavailable_names_a_reason_when_protoc_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROTOC", raising=False)
    monkeypatch.setattr(gol.shutil, "which", lambda name: None)
    reason = gol.unavailable("cpp")
    assert reason is not None and "protoc" in reason


@pytest.mark.parametrize(
    ("version", "rel", "java"),
    [((3, 21, 12), (21, 12), (3, 21, 12)), ((25, 1), (25, 1), (3, 25, 1)), ((35, 1), (35, 1), (4, 35, 1))],
)
def test_version_mapping(version: tuple[int, ...], rel: tuple[int, int], java: tuple[int, int, int]) -> None:
    assert gol.release(version) == rel
    assert gol.java_version(rel) == java


def test_grpc_tools_protoc_cannot_write_cpp_or_java(tmp_path: Path) -> None:
    """Why cpp and java need a full protoc: grpcio-tools' protoc has only the Python generators."""
    if shutil.which("protoc-gen-cpp"):
        pytest.skip("a protoc-gen-cpp plugin on PATH would answer for the missing generator")
    with pytest.raises(gol.Failed, match="protoc-gen-cpp"):
        gol._bundled_generate(gol.protoc.PROTOS, [f"--cpp_out={tmp_path}"], ["clarifai/api/utils/time.proto"])
