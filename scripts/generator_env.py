"""The environment ``generate.py`` runs the code generators in: the exact pins of the ``dev`` extra.

The generated stubs must load on the oldest protobuf the package accepts, so they come from a
grpcio-tools whose protoc is no newer than that floor; such a grpcio-tools caps protobuf below
the newest releases, so it cannot live in an environment with the newest protobuf. This module
says whether the running interpreter is the generation environment, and otherwise builds one
under ``.cache/protos-generator/`` from the package registry (kept until the pins change).

The environment holds every ``dev`` requirement (each must be ``==``) plus protobuf and
googleapis-common-protos at their declared floors: the ``google/api`` protos of the latter
end up, with their comments, in the descriptor set we ship.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors  # noqa: E402

ROOT = floors.ROOT
HOME = ROOT / ".cache" / "protos-generator"
REEXEC_GUARD = "CLARIFAI_GRPC_CLIENT_GENERATOR_ENV"
_RUNTIME_FLOORS = ("protobuf", "googleapis-common-protos")


def pins(pyproject: Path = floors.PYPROJECT) -> dict[str, str]:
    """``name -> exact version`` of everything that shapes the generated output."""
    project = floors.load(pyproject)
    meta = project["project"]
    assert isinstance(meta, dict)
    out: dict[str, str] = {}
    for line in meta["optional-dependencies"]["dev"]:
        req = floors.parse(line)
        if [op for op, _ in req.clauses] != ["=="]:
            raise SystemExit(f"the dev extra must pin exactly (name==version): {line!r}")
        out[req.name] = req.clauses[0][1]
    runtime = floors.floor_pins([floors.parse(line) for line in meta["dependencies"]])
    for name in _RUNTIME_FLOORS:
        out[name] = runtime[name]
    return out


def mismatches(wanted: dict[str, str]) -> list[str]:
    """What the running interpreter has that differs from ``wanted`` (empty: it is the one)."""
    problems = []
    for name, version in sorted(wanted.items()):
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = "not installed"
        if have != version:
            problems.append(f"{name}=={version} wanted, {have} found")
    return problems


def is_current() -> bool:
    """True when this interpreter should generate: it has the pins, or was started by :func:`ensure`
    (then :func:`require_exact` reports what is wrong instead of starting another one)."""
    return os.environ.get(REEXEC_GUARD) == "1" or not mismatches(pins())


def require_exact() -> None:
    problems = mismatches(pins())
    if problems:
        raise SystemExit("not the generation environment: " + "; ".join(problems))


def ensure() -> Path:
    """The Python of the generation environment, built (or rebuilt for new pins) on first use."""
    wanted = pins()
    spec = "".join(f"{n}=={v}\n" for n, v in sorted(wanted.items()))
    env_dir = HOME / "venv"
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = env_dir / "pins.txt"
    if python.exists() and marker.exists() and marker.read_text() == spec:
        return python
    if env_dir.exists():
        shutil.rmtree(env_dir)
    print(f"building the generation environment in {env_dir.relative_to(ROOT)}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    requirements = env_dir / "requirements.txt"
    requirements.write_text(spec)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
        check=True,
    )
    marker.write_text(spec)
    return python
