"""Compare our compiled ``protos/`` with the published Clarifai V2 descriptors, field by field.

Each side's facts come from ``descriptor_facts.py`` in its own subprocess (both register
``clarifai.api.*``). Prints a readable diff and exits 1 on any difference.

    python scripts/check_conformance.py                 # every published RPC + all they reach
    python scripts/check_conformance.py --file clarifai/api/concepts.proto   # one file's types
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protoc  # noqa: E402

from google.protobuf import descriptor_pb2  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED_RPCS = protoc.ROOT / "tests" / "data" / "seed_rpcs.txt"


def _facts(python: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [python, str(HERE / "descriptor_facts.py"), *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def _types_in(fds: descriptor_pb2.FileDescriptorSet, files: list[str]) -> list[str]:
    names: list[str] = []

    def walk(prefix: str, msgs: Any, enums: Any) -> None:
        for e in enums:
            names.append(f"{prefix}{e.name}")
        for m in msgs:
            names.append(f"{prefix}{m.name}")
            walk(f"{prefix}{m.name}.", m.nested_type, m.enum_type)

    for f in fds.file:
        if f.name in files:
            walk(f"{f.package}." if f.package else "", f.message_type, f.enum_type)
    return names


def diff(ours: dict[str, Any], published: dict[str, Any]) -> list[str]:
    """Human-readable differences, ours against published; empty when identical."""
    lines: list[str] = []
    for kind in ("rpcs", "messages", "enums"):
        a, b = ours[kind], published[kind]
        for name in sorted(set(a) | set(b)):
            if name not in a:
                lines.append(f"{kind[:-1]} {name}: missing from our protos")
            elif name not in b:
                lines.append(f"{kind[:-1]} {name}: not in the published API")
            elif a[name] != b[name]:
                lines += [f"{kind[:-1]} {name}: {d}" for d in _deep_diff(a[name], b[name])]
    for name in published.get("missing", []):
        lines.append(f"type {name}: not in the published API")
    for name in ours.get("missing", []):
        lines.append(f"type {name}: missing from our protos")
    return lines


def _deep_diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{p}: missing (published: {json.dumps(b[k], sort_keys=True)})")
            elif k not in b:
                out.append(f"{p}: extra (ours: {json.dumps(a[k], sort_keys=True)})")
            else:
                out += _deep_diff(a[k], b[k], p)
        return out
    if a != b:
        return [f"{path}: ours {json.dumps(a, sort_keys=True)} != published {json.dumps(b, sort_keys=True)}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", action="append", default=[], help="only the types defined in this proto file")
    parser.add_argument("--protos", type=Path, default=protoc.PROTOS, help="the proto root to check (default: protos/)")
    parser.add_argument(
        "--oracle-python",
        default=os.environ.get("CLARIFAI_ORACLE_PYTHON", sys.executable),
        help="a Python that can import clarifai_grpc (default: this one, in a subprocess)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "image.binpb"
        protoc.build_descriptor_set(image, args.file or None, protos=args.protos)
        fds = descriptor_pb2.FileDescriptorSet.FromString(image.read_bytes())
        if args.file:
            types = ",".join(_types_in(fds, args.file))
            rpcs = ",".join(m.name for f in fds.file if f.name in args.file for s in f.service for m in s.method)
            ours = _facts(sys.executable, "--descriptor-set", str(image), "--rpcs", rpcs, "--types", types)
            published = _facts(args.oracle_python, "--published", "--rpcs", rpcs, "--types", types)
            # One file's check covers its own types and RPCs, not everything its RPCs reach.
            for side in (ours, published):
                side["messages"] = {k: v for k, v in side["messages"].items() if k in types.split(",")}
                side["enums"] = {k: v for k, v in side["enums"].items() if k in types.split(",")}
        else:
            # Both whole services: an RPC the published API has and we lack is a difference.
            ours = _facts(sys.executable, "--descriptor-set", str(image))
            published = _facts(args.oracle_python, "--published")
    problems = diff(ours, published)
    for line in problems:
        print(line)
    n_rpc = len(published["rpcs"])
    same_rpc = sum(1 for r in published["rpcs"] if ours["rpcs"].get(r) == published["rpcs"][r])
    same_msg = sum(1 for m in published["messages"] if ours["messages"].get(m) == published["messages"][m])
    same_enum = sum(1 for e in published["enums"] if ours["enums"].get(e) == published["enums"][e])
    print(
        f"RPCs identical: {same_rpc}/{n_rpc}; messages identical: {same_msg}/{len(published['messages'])}; "
        f"enums identical: {same_enum}/{len(published['enums'])}; differences: {len(problems)}"
    )
    if not args.file and SEED_RPCS.exists():
        seed = [r.strip() for r in SEED_RPCS.read_text().split() if r.strip()]
        absent = [r for r in seed if r not in ours["rpcs"]]
        print(f"reference RPCs defined: {len(seed) - len(absent)}/{len(seed)}")
        if absent:
            print("not defined: " + " ".join(absent))
            return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
