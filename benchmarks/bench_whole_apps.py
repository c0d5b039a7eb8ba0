"""Whole-app tools against the emulator running in another process, side by side in one run.

    python benchmarks/bench_whole_apps.py [--db /tmp/clarifai-bench-whole-apps.sqlite3] [--rounds 3] [--no-json]

(a) Streaming 100,000 inputs with per_page=1000: inputs/s through ``client.stream_inputs`` vs a
    hand-written ``last_id`` loop on the raw stub (``V2Stub(grpc.insecure_channel)`` with the key
    in the metadata); over JSON, vs a hand-written loop of httpx GETs decoded with
    ``google.protobuf.json_format``. Rounds alternate raw/ours; the ratio is ours/raw (median of
    the per-round ratios).
(b) Peak memory of the iterator at 10,000 and 100,000 inputs: each measurement runs in a fresh
    client process, which opens the client, streams one page to warm up, reads its RSS, streams
    the whole app, and reports its peak RSS (the larger of VmHWM, reset before the stream, and
    VmRSS sampled every 2 ms) minus that RSS; median of 3 processes. The same
    for ``list(stream)`` shows what holding every input would cost. (RSS, not tracemalloc: the
    messages live in upb arenas that tracemalloc does not see.)
(c) Uploading 10,000 small text inputs: inputs/s via ``client.upload_inputs`` (concurrency 4 and
    8) vs a hand-written sequential loop of 128-input PostInputs calls on the raw stub, each run
    into a new app of a second emulator process with a throw-away database.

The streaming database (100,000 inputs in app ``main``, 10,000 in app ``tenk``) is seeded once
and reused by later runs given the same ``--db``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc
import httpx
from google.protobuf import json_format

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import KEY, emulator_process  # noqa: E402
from clarifai_grpc_client import Client  # noqa: E402
from clarifai_grpc_client.proto import (  # noqa: E402
    App,
    Data,
    GetInputCountRequest,
    Input,
    MultiInputResponse,
    PostAppsRequest,
    PostInputsRequest,
    StreamInputsRequest,
    Text,
    UserAppIDSet,
    V2Stub,
)

METADATA = (("authorization", f"Key {KEY}"),)
APPS = {"main": 100_000, "tenk": 10_000}
PER_PAGE = 1000
UPLOADS = 10_000


# --- seeding ------------------------------------------------------------------------------------


def count(stub: V2Stub, app: str) -> int:
    resp = stub.GetInputCount(GetInputCountRequest(user_app_id=UserAppIDSet(app_id=app)), metadata=METADATA)
    return int(resp.counts.processed) if resp.status.code == 10000 else -1


def seed(target: str) -> None:
    channel = grpc.insecure_channel(target)
    stub = V2Stub(channel)
    for app, n in APPS.items():
        have = count(stub, app)
        if have == n:
            continue
        if have > 0:
            raise SystemExit(f"app {app!r} of the database holds {have} inputs, not {n}: use a new --db")
        if have < 0:
            stub.PostApps(PostAppsRequest(apps=[App(id=app)]), metadata=METADATA)
        started = time.perf_counter()
        uai = UserAppIDSet(app_id=app)

        def post(start: int) -> None:
            inputs = [Input(id=f"{app}-{i:06d}", data=Data(text=Text(raw=f"input number {i} of {app}")))
                      for i in range(start, min(start + 128, n))]
            resp = stub.PostInputs(PostInputsRequest(user_app_id=uai, inputs=inputs), metadata=METADATA, timeout=120)
            assert resp.status.code == 10000, resp.status

        with futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(post, range(0, n, 128)))
        assert count(stub, app) == n
        print(f"seeded {n} inputs into app {app!r} in {time.perf_counter() - started:.1f} s", flush=True)
    channel.close()


# --- (a) streaming ------------------------------------------------------------------------------


def raw_grpc_stream(target: str, app: str) -> Callable[[], int]:
    channel = grpc.insecure_channel(target)
    stub = V2Stub(channel)

    def run() -> int:
        n, last = 0, ""
        while True:
            resp = stub.StreamInputs(StreamInputsRequest(user_app_id=UserAppIDSet(app_id=app), per_page=PER_PAGE, last_id=last),
                                     metadata=METADATA)
            if resp.status.code != 10000:
                raise RuntimeError(resp.status.description)
            for inp in resp.inputs:
                n += 1
                last = inp.id
            if len(resp.inputs) < PER_PAGE:
                return n

    return run


def raw_json_stream(http_base: str, app: str) -> Callable[[], int]:
    client = httpx.Client(base_url=http_base, headers={"Authorization": f"Key {KEY}"}, timeout=60)
    path = f"/v2/users/me/apps/{app}/inputs/stream"

    def run() -> int:
        n, last = 0, ""
        while True:
            resp = client.get(path, params={"per_page": PER_PAGE, "last_id": last})
            resp.raise_for_status()
            page = json_format.Parse(resp.content, MultiInputResponse(), ignore_unknown_fields=True)
            for inp in page.inputs:
                n += 1
                last = inp.id
            if len(page.inputs) < PER_PAGE:
                return n

    return run


def ours_stream(client: Client) -> Callable[[], int]:
    def run() -> int:
        n = 0
        for _ in client.stream_inputs(per_page=PER_PAGE):
            n += 1
        return n

    return run


def compare(raw: Callable[[], int], ours: Callable[[], int], rounds: int, expected: int, warm_up: bool) -> dict[str, float]:
    """inputs/s (wall clock) and client CPU per input, raw vs ours, in alternating rounds."""
    if warm_up:
        assert raw() == expected and ours() == expected
    rates: dict[str, list[float]] = {"raw": [], "ours": []}
    cpu: dict[str, list[float]] = {"raw": [], "ours": []}
    for _ in range(rounds):
        for name, fn in (("raw", raw), ("ours", ours)):
            t, c = time.perf_counter(), time.process_time()
            n = fn()
            rates[name].append(n / (time.perf_counter() - t))
            cpu[name].append((time.process_time() - c) / n * 1e6)
            assert n == expected
    ratios = [o / r for o, r in zip(rates["ours"], rates["raw"])]
    return {"raw": statistics.median(rates["raw"]), "ours": statistics.median(rates["ours"]),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "raw_cpu_us": statistics.median(cpu["raw"]), "ours_cpu_us": statistics.median(cpu["ours"])}


# --- (b) memory ---------------------------------------------------------------------------------


def proc_status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(transport: str, base: str, app: str, mode: str) -> None:
    """In a fresh process: peak RSS growth while streaming ``app`` (``iterate``) or while holding it (``list``).

    The peak (VmHWM) is reset right before the measured stream (``/proc/self/clear_refs``), so the
    start-up and the warm-up page do not count.
    """
    with Client(transport, base, pat=KEY, app_id=app, environ={}) as client:
        for _ in zip(range(PER_PAGE), client.stream_inputs(per_page=PER_PAGE)):  # warm up: one page
            pass
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak RSS to the current RSS
        before = proc_status_kb("VmRSS")
        sampled = [before]
        done = threading.Event()

        def sample() -> None:  # VmHWM is updated lazily by the kernel: sample VmRSS as well
            while not done.wait(0.002):
                sampled.append(proc_status_kb("VmRSS"))

        sampler = threading.Thread(target=sample)
        sampler.start()
        t = time.perf_counter()
        stream = client.stream_inputs(per_page=PER_PAGE)
        if mode == "list":
            n = len(list(stream))
        else:
            n = sum(1 for _ in stream)
        seconds = time.perf_counter() - t
        done.set()
        sampler.join()
        peak = max(proc_status_kb("VmHWM"), max(sampled))
    print(json.dumps({"n": n, "rss_before_kb": before, "peak_kb": peak, "growth_kb": peak - before, "seconds": seconds}))


def memory(transport: str, base: str, app: str, mode: str, runs: int = 3) -> dict[str, float]:
    """The median growth over ``runs`` fresh processes (allocator noise is a few hundred KiB)."""
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--memory-child", transport, base, app, mode],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout))
    results.sort(key=lambda r: r["growth_kb"])
    return results[len(results) // 2]  # type: ignore[no-any-return]


# --- (c) uploads --------------------------------------------------------------------------------


def texts() -> list[str]:
    return [f"a small text input, number {i}" for i in range(UPLOADS)]


def upload_rates(target: str, rounds: int) -> dict[str, tuple[float, float]]:
    channel = grpc.insecure_channel(target)
    stub = V2Stub(channel)
    apps = iter(range(1_000_000))

    def new_app() -> str:
        app = f"up-{next(apps)}"
        resp = stub.PostApps(PostAppsRequest(apps=[App(id=app)]), metadata=METADATA)
        assert resp.status.code == 10000, resp.status
        return app

    def raw() -> int:
        uai = UserAppIDSet(app_id=new_app())
        items = texts()
        for start in range(0, len(items), 128):
            inputs = [Input(data=Data(text=Text(raw=t))) for t in items[start:start + 128]]
            resp = stub.PostInputs(PostInputsRequest(user_app_id=uai, inputs=inputs), metadata=METADATA)
            assert resp.status.code == 10000, resp.status
        return count(stub, uai.app_id)

    def ours(concurrency: int) -> Callable[[], int]:
        def run() -> int:
            app = new_app()
            with Client("grpc", f"grpc://{target}", pat=KEY, app_id=app, environ={}) as client:
                report = client.upload_inputs(texts(), concurrency=concurrency)
            assert report.ok and len(report.succeeded) == UPLOADS, report
            return count(stub, app)
        return run

    variants: dict[str, Callable[[], int]] = {"raw sequential": raw, "ours c=4": ours(4), "ours c=8": ours(8)}
    for fn in variants.values():  # warm-up
        assert fn() == UPLOADS
    rates: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            t, c = time.perf_counter(), time.process_time()
            n = fn()
            rates[name].append(n / (time.perf_counter() - t))
            cpu[name].append((time.process_time() - c) / n * 1e6)
            assert n == UPLOADS
    channel.close()
    return {k: (statistics.median(v), statistics.median(cpu[k])) for k, v in rates.items()}


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--memory-child":
        memory_child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="/tmp/clarifai-bench-whole-apps.sqlite3", help="streaming database, seeded once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the JSON streaming and upload runs")
    parser.add_argument("--stream-rounds", type=int, default=9, help="rounds of the gRPC streaming runs")
    parser.add_argument("--no-json", action="store_true", help="gRPC only")
    args = parser.parse_args()
    transports = ["grpc"] if args.no_json else ["grpc", "json"]
    started = time.perf_counter()
    print(f"python {sys.version.split()[0]}, grpcio {grpc.__version__}, {os.cpu_count()} CPUs shared by client and emulator")

    with emulator_process(args.db) as server:
        seed(server.grpc_target)
        bases = {"grpc": f"grpc://{server.grpc_target}", "json": server.http_base}

        print(f"\n(a) streaming {APPS['main']:,} inputs, per_page={PER_PAGE} (medians of alternating rounds: "
              f"gRPC {args.stream_rounds}, JSON {args.rounds})")
        for transport in transports:
            raw = raw_grpc_stream(server.grpc_target, "main") if transport == "grpc" else raw_json_stream(server.http_base, "main")
            rounds = args.stream_rounds if transport == "grpc" else args.rounds
            with Client(transport, bases[transport], pat=KEY, app_id="main", environ={}) as client:
                r = compare(raw, ours_stream(client), rounds, APPS["main"], warm_up=transport == "grpc")
            print(f"    {transport:<4}  raw loop {r['raw']:>7,.0f} inputs/s   stream_inputs {r['ours']:>7,.0f} inputs/s   "
                  f"ours/raw {r['ratio']:.3f} (rounds {r['ratio_min']:.3f}..{r['ratio_max']:.3f})   "
                  f"client CPU per input: raw {r['raw_cpu_us']:.1f} us, ours {r['ours_cpu_us']:.1f} us", flush=True)

        print("\n(b) peak RSS of the client process while streaming, minus its RSS before (fresh processes, median of 3)")
        for transport in transports:
            for app in ("tenk", "main"):
                it = memory(transport, bases[transport], app, "iterate")
                held = memory(transport, bases[transport], app, "list")
                print(f"    {transport:<4} {APPS[app]:>7,} inputs: iterating +{it['growth_kb']:>8,} KiB   "
                      f"list(stream) +{held['growth_kb']:>8,} KiB   (RSS before {it['rss_before_kb']:,} KiB)", flush=True)

    scratch = tempfile.mkdtemp(prefix="clarifai-bench-upload-")
    try:
        with emulator_process(os.path.join(scratch, "upload.sqlite3")) as server:
            rates = upload_rates(server.grpc_target, args.rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n(c) uploading {UPLOADS:,} small text inputs over gRPC (median of {args.rounds} rounds, a new app each)")
    base = rates["raw sequential"][0]
    for name, (rate, cpu_us) in rates.items():
        print(f"    {name:<15} {rate:>8,.0f} inputs/s   x{rate / base:.2f} of the sequential raw loop   "
              f"client CPU per input {cpu_us:.1f} us")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
