"""``clarifai-grpc serve`` / ``python -m clarifai_grpc_client.emulator``: run the emulator until interrupted.

    python -m clarifai_grpc_client.emulator --db state.sqlite3 --grpc-port 50051 --http-port 8080 \\
        --key-file keys.txt --fault-throttled 0.1 --fault-seed 7 --fail-next PostInputs:2:unavailable

The keys it accepts come from ``--key-file FILE`` (one a line), ``$CLARIFAI_EMULATOR_KEYS``
(separated by commas or spaces) or ``--key KEY`` (which shows the key to anyone who can list
processes). Without any, a random demo key is generated and printed once at start (keys are
never logged).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import secrets
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .auth import DEFAULT_USER_ID
from .faults import FaultKind, FaultRule, Faults
from .server import Emulator


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a rate between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds >= 0")
    return value


def _fail_next(text: str) -> tuple[str, int, FaultKind]:
    parts = text.split(":")
    try:
        rpc = parts[0]
        n = int(parts[1]) if len(parts) > 1 else 1
        kind = FaultKind(parts[2]) if len(parts) > 2 else FaultKind.UNAVAILABLE
        if not rpc or n < 0 or kind is FaultKind.NONE or len(parts) > 3:
            raise ValueError(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected RPC[:N[:unavailable|throttled|dropped]]") from None
    return rpc, n, kind


def _cut_stream(text: str) -> tuple[str, int, FaultKind, int]:
    parts = text.split(":")
    try:
        rpc, n = parts[0], int(parts[1])
        kind = FaultKind(parts[2]) if len(parts) > 2 else FaultKind.UNAVAILABLE
        times = int(parts[3]) if len(parts) > 3 else 1
        if not rpc or n < 0 or times < 0 or kind not in (FaultKind.UNAVAILABLE, FaultKind.DROPPED) or len(parts) > 4:
            raise ValueError(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"{text!r}: expected RPC:N[:unavailable|dropped[:TIMES]]") from None
    return rpc, n, kind, times


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clarifai-grpc serve", description="Run a local Clarifai V2 emulator (gRPC + HTTP/JSON).")
    p.add_argument("--db", metavar="PATH", help="SQLite file to keep state in (default: a temporary file, deleted at exit)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others are warned about)")
    p.add_argument("--grpc-port", type=int, default=0, help="gRPC port (default 0: a free port)")
    p.add_argument("--http-port", type=int, default=0, help="HTTP/JSON port (default 0: a free port)")
    p.add_argument("--key-file", action="append", default=[], metavar="FILE",
                   help="accept the API keys in FILE, one a line (repeatable; default: $CLARIFAI_EMULATOR_KEYS, "
                        "else a generated demo key, printed at start)")
    p.add_argument("--key", action="append", default=[], metavar="KEY",
                   help="an API key to accept (repeatable; visible to anyone who can list processes: prefer --key-file)")
    f = p.add_argument_group("fault injection (shared by gRPC and HTTP)")
    f.add_argument("--fault-unavailable", type=_rate, default=0.0, metavar="RATE", help="rate of UNAVAILABLE / HTTP 503")
    f.add_argument("--fault-throttled", type=_rate, default=0.0, metavar="RATE", help="rate of in-body CONN_THROTTLED (HTTP 429)")
    f.add_argument("--fault-dropped", type=_rate, default=0.0, metavar="RATE",
                   help="rate of calls whose response is lost after the work is done")
    f.add_argument("--fault-latency", type=_seconds, default=0.0, metavar="SECONDS", help="latency added to every call")
    f.add_argument("--fault-rpc", action="append", default=[], metavar="RPC",
                   help="apply the rates and latency to this RPC only (repeatable; default: every RPC)")
    f.add_argument("--fault-seed", type=int, default=0, help="seed of the deterministic fault draws")
    f.add_argument("--fail-next", type=_fail_next, action="append", default=[], metavar="RPC[:N[:KIND]]",
                   help="fail the next N calls of RPC ('*' for any) with KIND (default unavailable)")
    f.add_argument("--cut-stream", type=_cut_stream, action="append", default=[], metavar="RPC:N[:KIND[:TIMES]]",
                   help="end the next TIMES (default 1) streams of RPC after N messages, with an error (unavailable, "
                        "the default) or abruptly (dropped)")
    f.add_argument("--stream-delay", type=_seconds, default=0.0, metavar="SECONDS",
                   help="pause before each streamed message after the first (a request's chunk_delay param overrides it)")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return p


def faults_from_args(args: argparse.Namespace) -> Faults:
    rule = FaultRule(unavailable=args.fault_unavailable, throttled=args.fault_throttled, dropped=args.fault_dropped,
                     latency=args.fault_latency)
    faults = Faults(None if args.fault_rpc else rule, per_rpc={r: rule for r in args.fault_rpc}, seed=args.fault_seed)
    for rpc, n, kind in args.fail_next:
        faults.fail_next(rpc, n, kind)
    for rpc, n, kind, times in args.cut_stream:
        faults.cut_stream(rpc, n, kind, times)
    faults.set_stream_delay(args.stream_delay)
    return faults


def keys_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> list[str]:
    """The keys to accept: ``--key``, the lines of each ``--key-file``, else ``$CLARIFAI_EMULATOR_KEYS``."""
    keys = list(args.key)
    for path in args.key_file:
        try:
            with open(path, encoding="utf-8") as fh:
                keys += [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            raise ValueError(f"cannot read --key-file {path}: {reason}") from None
        if not keys:
            raise ValueError(f"--key-file {path} holds no key")
    if not keys:
        env = os.environ if environ is None else environ
        keys = [k for k in re.split(r"[\s,]+", env.get("CLARIFAI_EMULATOR_KEYS", "")) if k]
    return keys


def export_lines(grpc_target: str, http_base: str, pat: str | None) -> list[str]:
    """The ``export CLARIFAI_...`` lines that point a client or the command line at this emulator.

    ``pat`` is the shell text of the key (a demo key, or how to read the key file); None when the
    key was given on the command line and cannot be repeated here.
    """
    key = f"export CLARIFAI_PAT={pat}" if pat else "# export CLARIFAI_PAT=<a key given with --key>  (--key-file is safer)"
    return [
        f"export CLARIFAI_GRPC_BASE=grpc://{grpc_target}",
        f"export CLARIFAI_API_BASE={http_base}",
        key,
        f"export CLARIFAI_USER_ID={DEFAULT_USER_ID}",
        "export CLARIFAI_APP_ID=main",
    ]


def _pat_text(args: argparse.Namespace, generated_key: str | None) -> str | None:
    if generated_key:
        return shlex.quote(generated_key)
    if args.key_file:
        first_key = "'NF && $1 !~ /^#/ {print $1; exit}'"  # as keys_from_args reads the file
        return f'"$(awk {first_key} {shlex.quote(args.key_file[0])})"'
    if args.key:
        return None
    return '"${CLARIFAI_EMULATOR_KEYS%%[[:space:],]*}"'


def serve_main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the emulator until SIGINT/SIGTERM, stop it cleanly; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        faults = faults_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        keys = keys_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    generated = not keys
    if generated:
        keys = ["emu-" + secrets.token_hex(16)]
    emulator = Emulator(db_path=args.db, keys=keys, host=args.host, grpc_port=args.grpc_port, http_port=args.http_port,
                        faults=faults)
    try:
        emulator.start()
    except (OSError, RuntimeError) as exc:
        print(f"error: cannot start the emulator: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Clarifai emulator: gRPC {emulator.grpc_target}  HTTP {emulator.http_base}", flush=True)
        print(f"database: {args.db or 'temporary (deleted at exit)'}", flush=True)
        if generated:
            print(f"demo key (use 'authorization: Key <key>'): {keys[0]}", flush=True)
        print("to use it from a shell, paste:", flush=True)
        for line in export_lines(emulator.grpc_target, emulator.http_base, _pat_text(args, keys[0] if generated else None)):
            print(f"  {line}", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        emulator.stop()
        print("Clarifai emulator stopped", flush=True)
    return 0
