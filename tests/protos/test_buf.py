"""scripts/buf_check.py: buf lint, buf breaking and the HTTP-binding check, offline.

Each negative test copies protos/ (with its buf.yaml and baseline) to a temporary directory,
makes one edit there and runs the script on the copy with --protos.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "buf_check.py"
PROTOS = ROOT / "protos"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) by ``new``."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "protos"
    shutil.copytree(PROTOS, copy)
    return copy


CONCEPT_NAME = "  // Human-readable name of the concept.\n  string name = 2;\n"  # field 2 of Concept


def test_config_and_baseline_are_committed() -> None:
    assert (PROTOS / "buf.yaml").is_file()
    assert (PROTOS / "baseline" / "clarifai_v2.binpb").is_file()


def test_real_tree_passes() -> None:
    proc = run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "== buf lint: PASS" in proc.stdout
    assert "== buf breaking against clarifai_v2.binpb: PASS" in proc.stdout
    assert "== HTTP bindings against the baseline: PASS" in proc.stdout


def test_unchanged_copy_passes(tree: Path) -> None:
    proc = run("--protos", str(tree))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_changed_field_number_is_refused(tree: Path) -> None:
    edit(tree / "clarifai/api/concepts.proto", CONCEPT_NAME, CONCEPT_NAME.replace("= 2;", "= 99;"))
    proc = run("--protos", str(tree))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "== buf breaking against clarifai_v2.binpb: FAIL" in proc.stdout
    assert 'clarifai/api/concepts.proto' in proc.stdout
    assert 'field "2" with name "name" on message "Concept" was deleted' in proc.stdout


def test_renamed_field_is_refused_for_json(tree: Path) -> None:
    # Same number and type: binary-compatible, but the JSON name changes (WIRE_JSON).
    edit(tree / "clarifai/api/concepts.proto", CONCEPT_NAME, CONCEPT_NAME.replace("name =", "title ="))
    proc = run("--protos", str(tree))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Field "2" on message "Concept" changed name from "name" to "title".' in proc.stdout
    assert 'changed option "json_name" from "name" to "title"' in proc.stdout


def test_changed_http_binding_is_refused(tree: Path) -> None:
    edit(
        tree / "clarifai/api/service.proto",
        'additional_bindings {get: "/v2/concepts/status"}',
        'additional_bindings {get: "/v2/concepts/counts"}',
    )
    proc = run("--protos", str(tree))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "== HTTP bindings against the baseline: FAIL" in proc.stdout
    assert "clarifai.api.V2.GetConceptCounts: HTTP binding GET /v2/concepts/status was removed" in proc.stdout


def test_deleted_rpc_is_refused(tree: Path) -> None:
    service = tree / "clarifai/api/service.proto"
    text = service.read_text()
    start = text.index("  rpc GetConceptCounts(")
    end = text.index("\n  }\n", start) + len("\n  }\n")
    service.write_text(text[:start] + text[end:])
    proc = run("--protos", str(tree))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Previously present RPC "GetConceptCounts" on service "V2" was deleted.' in proc.stdout


def test_lint_finding_fails(tree: Path) -> None:
    edit(tree / "clarifai/api/concepts.proto", "message Concept {\n", "message Concept {\n  int32 BadName = 999;\n")
    proc = run("--protos", str(tree))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "== buf lint: FAIL" in proc.stdout
    assert 'Field name "BadName" should be lower_snake_case' in proc.stdout


def test_update_baseline_accepts_a_release(tree: Path) -> None:
    edit(tree / "clarifai/api/concepts.proto", CONCEPT_NAME, CONCEPT_NAME.replace("= 2;", "= 99;"))
    assert run("--protos", str(tree)).returncode == 1
    update = run("--protos", str(tree), "--update-baseline")
    assert update.returncode == 0, update.stdout + update.stderr
    assert "changes accepted into the new baseline" in update.stdout
    assert run("--protos", str(tree)).returncode == 0


def test_update_baseline_refuses_lint_findings(tree: Path) -> None:
    before = (tree / "baseline/clarifai_v2.binpb").read_bytes()
    edit(tree / "clarifai/api/concepts.proto", "message Concept {\n", "message Concept {\n  int32 BadName = 999;\n")
    proc = run("--protos", str(tree), "--update-baseline")
    assert proc.returncode == 1
    assert (tree / "baseline/clarifai_v2.binpb").read_bytes() == before


def test_missing_baseline_is_a_setup_error(tree: Path) -> None:
    (tree / "baseline/clarifai_v2.binpb").unlink()
    proc = run("--protos", str(tree))
    assert proc.returncode == 2
    assert "--update-baseline" in proc.stderr


def _load_buf_check() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        return importlib.import_module("buf_check")
    finally:
        sys.path.remove(str(SCRIPT.parent))


def _without_each_exception() -> list[tuple[str, str]]:
    """(rule, buf.yaml text without that rule's ``except`` entry or ``ignore_only`` block)."""
    lines = (PROTOS / "buf.yaml").read_text().splitlines(keepends=True)
    variants: list[tuple[str, str]] = []
    block = ""
    for i, line in enumerate(lines):
        if re.match(r"\S", line) or re.match(r"  \w+:", line):
            block = line.strip()
            continue
        item = re.fullmatch(r"    - ([A-Z_]+)\n", line)
        if block == "except:" and item:
            variants.append((item.group(1), "".join(lines[:i] + lines[i + 1 :])))
        key = re.fullmatch(r"    ([A-Z_]+):\n", line)
        if block == "ignore_only:" and key:
            end = i + 1
            while end < len(lines) and lines[end].startswith("      - "):
                end += 1
            variants.append((key.group(1), "".join(lines[:i] + lines[end:])))
    return variants


EXCEPTIONS = _without_each_exception()


def test_every_lint_exception_was_found() -> None:
    assert len(EXCEPTIONS) == 11, [rule for rule, _ in EXCEPTIONS]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("image") / "image.binpb"
    _load_buf_check().build_image(PROTOS, path, source_info=True)
    return path


@pytest.mark.parametrize(("rule", "config"), EXCEPTIONS, ids=[rule for rule, _ in EXCEPTIONS])
def test_every_lint_exception_is_needed(rule: str, config: str, image: Path, tmp_path: Path) -> None:
    """buf.yaml turns off only what the published API's names break: without any one exception,
    lint fails on that very rule."""
    buf_check = _load_buf_check()
    (tmp_path / "buf.yaml").write_text(config)
    code, out = buf_check.run_buf(
        buf_check.find_buf(),
        ["lint", str(image), "--config", str(tmp_path / "buf.yaml"), "--path", "clarifai", "--error-format", "json"],
    )
    assert code == 100, out
    assert f'"type":"{rule}"' in out
