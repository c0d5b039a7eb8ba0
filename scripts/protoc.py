"""Run grpcio-tools' protoc over ``protos/`` with the include paths this project needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def include_paths(protos: Path = PROTOS) -> list[str]:
    """``protos/``, protoc's bundled well-known types, and googleapis' ``google/api`` files."""
    import grpc_tools
    from google.api import annotations_pb2

    bundled = Path(grpc_tools.__file__).parent / "_proto"
    googleapis = Path(annotations_pb2.__file__).parent.parent.parent
    return [str(protos), str(bundled), str(googleapis)]


def proto_files(protos: Path = PROTOS) -> list[str]:
    """Every ``.proto`` below ``protos/``, relative to it, in a stable order."""
    return sorted(p.relative_to(protos).as_posix() for p in protos.rglob("*.proto") if "baseline" not in p.parts)


def run(args: list[str], protos: Path = PROTOS) -> None:
    """Invoke protoc in-process; raise SystemExit with protoc's own message on failure."""
    from grpc_tools import protoc

    argv = ["protoc", *(f"-I{p}" for p in include_paths(protos)), *args]
    code = protoc.main(argv)
    if code != 0:
        raise SystemExit(f"protoc failed (exit {code}): {' '.join(args[-3:])}")


def build_descriptor_set(
    out: str | os.PathLike[str], files: list[str] | None = None, source_info: bool = False, protos: Path = PROTOS
) -> None:
    """Compile ``files`` (default: all of ``protos/``) into one FileDescriptorSet with imports."""
    extra = ["--include_source_info"] if source_info else []
    run([f"--descriptor_set_out={out}", "--include_imports", *extra, *(files or proto_files(protos))], protos)


if __name__ == "__main__":
    run(sys.argv[1:])
