"""The generated stubs load from the declared floors up: no stamp or gate is newer than a floor.

protobuf's gencode calls ``ValidateProtobufRuntimeVersion(domain, major, minor, patch, ...)``
and refuses an older runtime; grpcio's stubs compare ``GRPC_GENERATED_VERSION`` with the
installed grpcio. Both must be at or below what ``pyproject.toml`` lets users install.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "clarifai_grpc_client" / "proto"


def _floors() -> dict[str, tuple[int, ...]]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    out = {}
    for line in deps:
        m = re.match(r"^([A-Za-z0-9_.-]+)[^;]*?>=\s*([0-9][0-9.]*)", line)
        if m:
            out[m[1].lower()] = _version(m[2])
    return out


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _stamps() -> dict[str, tuple[int, ...]]:
    """``module -> (major, minor, patch)`` of every gencode stamp, read from the syntax tree."""
    found = {}
    for path in sorted(GENERATED.rglob("*_pb2.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "ValidateProtobufRuntimeVersion":
                major, minor, patch = (ast.literal_eval(a) for a in node.args[1:4])
                found[str(path.relative_to(GENERATED))] = (major, minor, patch)
    return found


def _grpc_gates() -> dict[str, tuple[int, ...]]:
    found = {}
    for path in sorted(GENERATED.rglob("*_pb2_grpc.py")):
        m = re.search(r"^GRPC_GENERATED_VERSION = '([0-9.]+)'$", path.read_text(), re.M)
        assert m, f"{path.name} has no GRPC_GENERATED_VERSION gate (a new grpcio-tools layout?)"
        found[str(path.relative_to(GENERATED))] = _version(m[1])
    return found


def test_every_module_is_stamped() -> None:
    modules = {str(p.relative_to(GENERATED)) for p in GENERATED.rglob("*_pb2.py")}
    assert modules and set(_stamps()) == modules


def test_gencode_stamps_are_at_or_below_the_protobuf_floor() -> None:
    floor = _floors()["protobuf"]
    newer = {m: v for m, v in _stamps().items() if v > floor}
    assert not newer, f"gencode newer than protobuf>={'.'.join(map(str, floor))}: {newer}"


def test_grpc_gates_are_at_or_below_the_grpcio_floor() -> None:
    floor = _floors()["grpcio"]
    gates = _grpc_gates()
    assert gates
    newer = {m: v for m, v in gates.items() if v > floor}
    assert not newer, f"GRPC_GENERATED_VERSION newer than grpcio>={'.'.join(map(str, floor))}: {newer}"


def test_the_generator_pins_match_the_stamps() -> None:
    """The dev extra's grpcio-tools is what wrote the gates (so regenerating cannot raise them)."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        dev = tomllib.load(fh)["project"]["optional-dependencies"]["dev"]
    tools = next(line for line in dev if line.startswith("grpcio-tools=="))
    assert set(_grpc_gates().values()) == {_version(tools.split("==", 1)[1])}


def test_every_module_registers_through_the_package_pool() -> None:
    """No generated module writes to protobuf's default pool directly (see clarifai_grpc_client._pool)."""
    for path in sorted(GENERATED.rglob("*_pb2.py")):
        text = path.read_text()
        assert "_descriptor_pool.Default()" not in text, path.name
        assert text.count("_clarifai_pool.add_serialized_file(") == 1, path.name
