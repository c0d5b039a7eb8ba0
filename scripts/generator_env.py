"""The environments ``generate.py`` runs the code generators in: the exact pins of the ``dev`` extra.

The generated stubs must load on the oldest protobuf the package accepts, so they come from a
grpcio-tools whose protoc is no newer than that floor; such a grpcio-tools caps protobuf below
the newest releases, so it cannot live in an environment with the newest protobuf. The typing
plugin (mypy-protobuf) is the other way round: its own modules need a newer protobuf than that
floor. So there are two environments, built under ``.cache/protos-generator/`` from the package
registry and kept until the pins change:

- ``protoc``: grpcio-tools, plus protobuf and googleapis-common-protos at their declared floors
  (the ``google/api`` protos of the latter end up, with their comments, in the descriptor set we
  ship). ``generate.py`` runs in it, or in any interpreter that has exactly these versions.
- ``plugin``: mypy-protobuf, whose ``protoc-gen-mypy*`` executables protoc starts.

Every ``dev`` requirement must be ``==``.
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
_PLUGIN_PACKAGES = ("mypy-protobuf",)


def _dev_pins(pyproject: Path) -> tuple[dict[str, str], dict[str, str]]:
    project = floors.load(pyproject)
    meta = project["project"]
    assert isinstance(meta, dict)
    tools: dict[str, str] = {}
    plugins: dict[str, str] = {}
    for line in meta["optional-dependencies"]["dev"]:
        req = floors.parse(line)
        if [op for op, _ in req.clauses] != ["=="]:
            raise SystemExit(f"the dev extra must pin exactly (name==version): {line!r}")
        (plugins if req.name in _PLUGIN_PACKAGES else tools)[req.name] = req.clauses[0][1]
    runtime = floors.floor_pins([floors.parse(line) for line in meta["dependencies"]])
    for name in _RUNTIME_FLOORS:
        tools[name] = runtime[name]
    return tools, plugins


def pins(pyproject: Path = floors.PYPROJECT) -> dict[str, str]:
    """``name -> exact version`` of the environment protoc (and ``generate.py``) runs in."""
    return _dev_pins(pyproject)[0]


def plugin_pins(pyproject: Path = floors.PYPROJECT) -> dict[str, str]:
    """``name -> exact version`` of the protoc plugins' environment."""
    return _dev_pins(pyproject)[1]


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
    """True when this interpreter should generate: it has the pins, or was started by
    ``generate.py`` in :func:`ensure`'s environment (then :func:`require_exact` reports what is
    wrong instead of starting another one)."""
    return os.environ.get(REEXEC_GUARD) == "1" or not mismatches(pins())


def require_exact() -> None:
    problems = mismatches(pins())
    if problems:
        raise SystemExit("not the generation environment: " + "; ".join(problems))


def _bin(env_dir: Path) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin")


def _build(name: str, wanted: dict[str, str]) -> Path:
    """The bin directory of environment ``name`` holding exactly ``wanted`` (built when missing)."""
    spec = "".join(f"{n}=={v}\n" for n, v in sorted(wanted.items()))
    env_dir = HOME / name
    python = _bin(env_dir) / ("python.exe" if os.name == "nt" else "python")
    marker = env_dir / "pins.txt"
    if python.exists() and marker.exists() and marker.read_text() == spec:
        return _bin(env_dir)
    if env_dir.exists():
        shutil.rmtree(env_dir)
    print(f"building the {name} environment in {env_dir.relative_to(ROOT)}", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    requirements = env_dir / "requirements.txt"
    requirements.write_text(spec)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
        check=True,
    )
    marker.write_text(spec)
    return _bin(env_dir)


def ensure() -> Path:
    """The Python of the ``protoc`` environment."""
    return _build("protoc", pins()) / ("python.exe" if os.name == "nt" else "python")


def plugin(name: str) -> Path:
    """A protoc plugin executable (``protoc-gen-mypy``) of the ``plugin`` environment."""
    path = _build("plugin", plugin_pins()) / (name + (".exe" if os.name == "nt" else ""))
    if not path.exists():
        raise SystemExit(f"{name} is not in {path.parent}: the dev extra's plugin packages changed?")
    return path
