"""The emulator's coverage table is current, and what it reports holds: no RPC without an answer, most stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clarifai_grpc_client.emulator import coverage
from clarifai_grpc_client.emulator.dispatch import V2

ROOT = Path(__file__).resolve().parents[2]


def test_coverage_doc_is_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_emulator_coverage.py"), "--check"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_every_rpc_has_a_row_and_most_are_stored() -> None:
    rows = coverage.rpc_coverage()
    assert [r.rpc for r in rows] == [m.name for m in V2.methods]
    counts = coverage.counts(rows)
    assert sum(counts.values()) == len(V2.methods)
    assert counts["stored"] * 100 >= 73 * len(V2.methods), counts  # at least 200 of 273
    streaming = {m.name for m in V2.methods if m.client_streaming or m.server_streaming}
    assert {r.rpc for r in rows if r.state == "streaming"} == streaming
    assert all(r.served_by != "none" for r in rows), [r.rpc for r in rows if r.served_by == "none"]
