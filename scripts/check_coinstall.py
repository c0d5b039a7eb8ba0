"""Check with pip's resolver that the package installs next to popular packages that pin protobuf.

For each package below, pip first resolves the package alone (the release a user would get
today), then this project together with exactly that release. Nothing is installed: both runs
are ``pip install --dry-run --ignore-installed`` with a JSON report (pip reads wheel metadata,
not whole wheels, where the index serves it). A conflict fails the check and prints pip's
explanation.

    python scripts/check_coinstall.py                  # every package below
    python scripts/check_coinstall.py apache-beam      # only these
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each is known to cap protobuf or grpcio (or to pin them exactly).
PACKAGES = (
    "tensorflow",
    "google-cloud-storage",
    "tritonclient[grpc]",
    "apache-beam",
    "grpcio-observability",
    "weaviate-client",
    "clarifai",
)
SHOWN = ("protobuf", "grpcio", "googleapis-common-protos")


@dataclass
class Outcome:
    package: str
    ok: bool
    seconds: float
    versions: dict[str, str]  # name -> version resolved (the package itself, and SHOWN)
    detail: str = ""


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def _resolve(requirements: list[str]) -> tuple[dict[str, str] | None, str]:
    """``name -> version`` pip would install for ``requirements``, or None and pip's message."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--disable-pip-version-check", "--prefer-binary", "--report", str(report), *requirements],
            capture_output=True, text=True, cwd=ROOT,
        )
        if result.returncode != 0:
            lines = [ln for ln in (result.stderr + result.stdout).splitlines() if not ln.startswith("WARNING: Location")]
            return None, "\n".join(lines[-25:])
        data = json.loads(report.read_text())
    return {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in data["install"]}, ""


def check(package: str) -> Outcome:
    start = time.monotonic()
    name = _name(package)
    alone, detail = _resolve([package])
    if alone is None or name not in alone:
        return Outcome(package, False, time.monotonic() - start, {}, "cannot resolve it alone:\n" + detail)
    extras = package[len(name):] if package[len(name):].startswith("[") else ""
    together, detail = _resolve([str(ROOT), f"{name}{extras}=={alone[name]}"])
    seconds = time.monotonic() - start
    if together is None:
        return Outcome(package, False, seconds, {name: alone[name]}, detail)
    shown = {name: together[name], **{n: together[n] for n in SHOWN if n in together}}
    return Outcome(package, True, seconds, shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="*", default=list(PACKAGES), help="requirements to check (default: all)")
    args = parser.parse_args(argv)
    failed = 0
    total = time.monotonic()
    for package in args.packages:
        outcome = check(package)
        versions = " ".join(f"{n}=={v}" for n, v in outcome.versions.items())
        print(f"{'ok  ' if outcome.ok else 'FAIL'} {package:<24} {outcome.seconds:6.1f}s  {versions}", flush=True)
        if not outcome.ok:
            failed += 1
            print("     " + outcome.detail.replace("\n", "\n     "), flush=True)
    ok = len(args.packages) - failed
    print(f"co-install checks: {ok} of {len(args.packages)} resolve together with this package ({time.monotonic() - total:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
