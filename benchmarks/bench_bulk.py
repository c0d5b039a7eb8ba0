"""Batch prediction (clarifai_grpc_client.batch) against the emulator in another process, side by side in one run.

    python benchmarks/bench_bulk.py [--rows 5000] [--rounds 5] [--no-ray]

(a) Per-row overhead in one process: ``predict_batch`` over an Arrow table of ``--rows`` texts
    (``text-keywords``, 32 rows a request, one request at a time) against a plain loop over the
    same client doing the same requests (texts in, concepts out as Python lists). Rounds
    alternate loop/batch; the figures are medians, the ratio is batch/loop. Also the batch
    function's own work without I/O (rows to inputs, responses to Arrow columns), in
    microseconds per row.
(b) Rows/s with 1 and 2 workers: the rows split over worker processes (each with its own client,
    built once, as an engine's worker has), ``concurrency=4`` within each; and, unless
    ``--no-ray``, the same through Ray Data (``Predictor`` on ``ray.init(num_cpus=2)``, 1 and 2
    actors). Ratios are 2 workers / 1 worker. The emulator shares the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import KEY, emulator_process  # noqa: E402
from clarifai_grpc_client import Client  # noqa: E402
from clarifai_grpc_client import _batch_rows  # noqa: E402
from clarifai_grpc_client.batch import Columns, predict_batch, predict_fields  # noqa: E402
from clarifai_grpc_client.proto import Concept, Data, Input, Output, PostModelOutputsRequest, Text  # noqa: E402

MODEL = "text-keywords"
CHUNK = 32
WORDS = ["football", "pizza", "rain", "guitar", "river", "car", "doctor", "bank", "hotel", "robot", "cat", "people"]


def texts(n: int) -> list[str]:
    return [f"{WORDS[i % len(WORDS)]} and {WORDS[(i * 5 + 1) % len(WORDS)]} number {i}" for i in range(n)]


def client_for(target: str) -> Client:
    return Client("grpc", f"grpc://{target}", pat=KEY, user_id="emulator-user", app_id="main")


def plain_loop(client: Client, rows: list[str]) -> int:
    """What a hand-written loop does: requests of CHUNK texts, the concepts kept as Python lists."""
    results: list[list[tuple[str, float]]] = []
    for i in range(0, len(rows), CHUNK):
        req = PostModelOutputsRequest(model_id=MODEL, inputs=[Input(data=Data(text=Text(raw=t))) for t in rows[i:i + CHUNK]])
        response = client.call("PostModelOutputs", req)
        results.extend([(c.id, c.value) for c in o.data.concepts] for o in response.outputs)
    return len(results)


def batch_call(client: Client, table: Any, concurrency: int = 1) -> int:
    out = predict_batch(client, table, model_id=MODEL, max_inputs=CHUNK, concurrency=concurrency)
    return int(out.num_rows)


def pure_overhead(rows: list[str], rounds: int) -> float:
    """Microseconds per row of the batch function's own work: reading rows, building inputs with
    their ids, matching outputs and writing the Arrow result columns (no I/O)."""
    table = pa.table({"text": rows})
    outputs = [Output(data=Data(concepts=[Concept(id="sport", name="sport", value=0.5)])) for _ in rows]
    for o in outputs:
        o.status.code = 10000
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        planned = _batch_rows.rows(_batch_rows.read_columns(table, Columns()), table.num_rows)
        results = [_batch_rows.output_result(p.input.id, o, False) for p, o in zip(planned, outputs)]  # type: ignore[union-attr]
        _batch_rows.with_results(table, _batch_rows.result_arrays(results, predict_fields()))
        samples.append((time.perf_counter() - start) / len(rows) * 1e6)
    return statistics.median(samples)


def _worker(args: tuple[str, list[str]]) -> int:
    target, rows = args
    with client_for(target) as client:
        return batch_call(client, pa.table({"text": rows}), concurrency=4)


def process_workers(target: str, rows: list[str], workers: int, rounds: int) -> float:
    """Rows/s with ``workers`` processes, each predicting its share through its own client."""
    ctx = multiprocessing.get_context("spawn")
    share = [(target, rows[i::workers]) for i in range(workers)]
    samples = []
    with ctx.Pool(workers) as pool:
        pool.map(_worker, [(target, r[:64]) for _, r in share])  # warm up: imports, channels
        for _ in range(rounds):
            start = time.perf_counter()
            done = sum(pool.map(_worker, share))
            samples.append(done / (time.perf_counter() - start))
    return statistics.median(samples)


def ray_workers(target: str, rows: list[str], rounds: int) -> dict[int, float]:
    import ray

    from clarifai_grpc_client.integrations.ray import Predictor

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", configure_logging=False,
             object_store_memory=200 * 1024 * 1024)
    ray.data.DataContext.get_current().enable_progress_bars = False
    table = pa.table({"text": rows})
    step = len(rows) // 10
    out: dict[int, list[float]] = {1: [], 2: []}
    try:
        for _ in range(rounds):
            for actors in (1, 2):
                ds = ray.data.from_arrow([table.slice(i, step) for i in range(0, len(rows), step)])
                start = time.perf_counter()
                n = ds.map_batches(Predictor, fn_constructor_kwargs={"client": client_for(target), "model_id": MODEL,
                                                                     "max_inputs": CHUNK},
                                   batch_format="pyarrow", batch_size=500, concurrency=actors).count()
                out[actors].append(n / (time.perf_counter() - start))
    finally:
        ray.shutdown()
    return {k: statistics.median(v) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-ray", action="store_true")
    args = p.parse_args(argv)
    rows = texts(args.rows)
    table = pa.table({"text": rows})
    report: dict[str, Any] = {"rows": args.rows, "rows_per_request": CHUNK}
    with tempfile.TemporaryDirectory() as tmp, emulator_process(str(Path(tmp) / "bench.sqlite3")) as server:
        with client_for(server.grpc_target) as client:
            plain_loop(client, rows[:256])
            batch_call(client, table.slice(0, 256))
            loop_s, batch_s = [], []
            for _ in range(args.rounds):
                start = time.perf_counter()
                assert plain_loop(client, rows) == args.rows
                loop_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert batch_call(client, table) == args.rows
                batch_s.append(time.perf_counter() - start)
            loop, batch = statistics.median(loop_s), statistics.median(batch_s)
            report["one_process"] = {
                "plain_loop_rows_per_s": round(args.rows / loop), "predict_batch_rows_per_s": round(args.rows / batch),
                "batch_over_loop_time": round(batch / loop, 3),
                "overhead_us_per_row_end_to_end": round((batch - loop) / args.rows * 1e6, 1),
                "overhead_us_per_row_no_io": round(pure_overhead(rows, args.rounds), 1),
            }
        one = process_workers(server.grpc_target, rows, 1, args.rounds)
        two = process_workers(server.grpc_target, rows, 2, args.rounds)
        report["processes"] = {"1_worker_rows_per_s": round(one), "2_workers_rows_per_s": round(two),
                               "2_over_1": round(two / one, 2)}
        if not args.no_ray:
            r = ray_workers(server.grpc_target, rows, max(1, args.rounds // 2))
            report["ray"] = {"1_actor_rows_per_s": round(r[1]), "2_actors_rows_per_s": round(r[2]),
                             "2_over_1": round(r[2] / r[1], 2)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
