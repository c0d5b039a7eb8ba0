"""Shared benchmark plumbing: an emulator in another process, timing and report helpers."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    grpc_target: str
    http_base: str


@contextmanager
def emulator_process(db: str, *extra: str) -> Iterator[Server]:
    """``clarifai-grpc serve`` in its own process, so client and server do not share CPU time."""
    gport, hport = free_port(), free_port()
    with _process([sys.executable, "-m", "clarifai_grpc_client.emulator", "--db", db, "--grpc-port", str(gport),
                   "--http-port", str(hport), "--key", KEY, "--log-level", "WARNING", *extra], gport, hport) as server:
        yield server


@contextmanager
def canned_process() -> Iterator[Server]:
    """``benchmarks/canned_server.py`` in its own process: answers cost the server next to nothing."""
    gport, hport = free_port(), free_port()
    script = Path(__file__).with_name("canned_server.py")
    with _process([sys.executable, str(script), str(gport), str(hport)], gport, hport) as server:
        yield server


@contextmanager
def _process(argv: list[str], gport: int, hport: int) -> Iterator[Server]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", hport), 0.2).close()
                socket.create_connection(("127.0.0.1", gport), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.05)
        yield Server(f"127.0.0.1:{gport}", f"http://127.0.0.1:{hport}")
    finally:
        proc.terminate()
        proc.wait(10)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(samples, 0.5) * 1e3, "p99_ms": percentile(samples, 0.99) * 1e3,
            "mean_ms": statistics.fmean(samples) * 1e3}


def published_json(http_base: str, requests: Mapping[str, tuple[str, bytes]], calls: int) -> dict[str, dict[str, float]]:
    """Time the published JSON channel on ``requests`` (label: RPC name and request JSON) in its own
    process: per label, ``p50_ms``, ``p99_ms``, ``mean_ms`` and ``cpu_ms_per_call``."""
    script = Path(__file__).with_name("_published_json.py")
    payload = json.dumps({label: [rpc, body.decode()] for label, (rpc, body) in requests.items()})
    result = subprocess.run([sys.executable, str(script), http_base, KEY, str(calls)], input=payload,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]
