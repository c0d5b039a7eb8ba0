"""The exact floor of every requirement in ``pyproject.toml``, as a pip constraints file.

CI installs the package a second time with these constraints, so the suite runs at exactly the
lowest versions the package declares: a floor that does not work fails there. Every requirement
must declare a floor (``>=`` or ``==``); a package named twice must agree on it.

    python scripts/floors.py                  # print the constraints (all extras)
    python scripts/floors.py -o floors.txt    # write them to a file

Needs Python 3.11+ (``tomllib``), like the other development scripts.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;]*?)\s*(?:;(?P<marker>.*))?$"
)
_CLAUSE = re.compile(r"^\s*(?P<op>==|>=|<=|~=|!=|<|>)\s*(?P<version>[^\s,]+)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One PEP 508 line of pyproject, reduced to what floors need."""

    name: str  # normalized (PEP 503)
    extras: tuple[str, ...]
    clauses: tuple[tuple[str, str], ...]  # (operator, version)
    marker: str

    @property
    def floor(self) -> str | None:
        """The lowest version allowed: the ``==`` pin, else the ``>=`` bound; None without one."""
        for op in ("==", ">="):
            for o, v in self.clauses:
                if o == op:
                    return v
        return None


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(line: str) -> Requirement:
    """Parse one requirement; ``ValueError`` for anything this simple reader does not handle."""
    m = _REQUIREMENT.match(line)
    if not m:
        raise ValueError(f"cannot read requirement {line!r}")
    clauses = []
    for part in filter(None, (p.strip() for p in m["spec"].split(","))):
        c = _CLAUSE.match(part)
        if not c:
            raise ValueError(f"cannot read version clause {part!r} of {line!r}")
        clauses.append((c["op"], c["version"]))
    extras = tuple(normalize(e.strip()) for e in (m["extras"] or "").split(",") if e.strip())
    return Requirement(normalize(m["name"]), extras, tuple(clauses), (m["marker"] or "").strip())


def load(pyproject: Path = PYPROJECT) -> dict[str, object]:
    with pyproject.open("rb") as fh:
        return tomllib.load(fh)


def requirements(project: dict[str, object], extras: list[str] | None = None) -> list[Requirement]:
    """The runtime requirements plus those of ``extras`` (default: every extra), self-references
    (``pkg[a,b]``) expanded, without the package itself."""
    meta = project["project"]
    assert isinstance(meta, dict)
    own = normalize(str(meta["name"]))
    optional: dict[str, list[str]] = {normalize(k): v for k, v in meta.get("optional-dependencies", {}).items()}
    wanted = list(optional) if extras is None else [normalize(e) for e in extras]
    out: list[Requirement] = []
    seen: set[str] = set()

    def add(lines: list[str]) -> None:
        for line in lines:
            req = parse(line)
            if req.name == own:
                for extra in req.extras:
                    if extra not in seen:
                        seen.add(extra)
                        add(optional[extra])
            else:
                out.append(req)

    add(list(meta.get("dependencies", [])))
    for extra in wanted:
        if extra not in optional:
            raise ValueError(f"no extra {extra!r} in pyproject.toml")
        if extra not in seen:
            seen.add(extra)
            add(optional[extra])
    return out


def floor_pins(reqs: list[Requirement]) -> dict[str, str]:
    """``name -> version`` at the floor; ``ValueError`` when one is missing or two disagree."""
    pins: dict[str, str] = {}
    for req in reqs:
        floor = req.floor
        if floor is None:
            raise ValueError(f"{req.name} declares no floor (>= or ==) in pyproject.toml")
        if pins.get(req.name, floor) != floor:
            raise ValueError(f"{req.name} has two floors in pyproject.toml: {pins[req.name]} and {floor}")
        pins[req.name] = floor
    return pins


def constraints(pins: dict[str, str]) -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    parser.add_argument("--extras", help="comma-separated extras (default: all)")
    args = parser.parse_args(argv)
    extras = None if args.extras is None else [e for e in args.extras.split(",") if e]
    try:
        text = constraints(floor_pins(requirements(load(), extras)))
    except ValueError as exc:
        print(f"floors: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
