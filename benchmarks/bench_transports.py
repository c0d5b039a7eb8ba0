"""Channel overhead, side by side in one run, against a canned V2 server in another process.

    python benchmarks/bench_transports.py [--calls 2000] [--seconds 5]

1. sync unary PostModelOutputs (1 input, 20 concepts back): the raw generated stub on a plain
   ``grpc.insecure_channel`` vs the stub on our gRPC channel (p50/p99; ratio ours/raw);
2. ``grpc.aio`` with 32 calls in flight: calls/s, raw vs ours;
3. our JSON transport vs the published ``clarifai-grpc`` JSON channel (run in its own process):
   p50 latency and client CPU per call, on the same PostModelOutputs and on ListInputs with
   128 inputs per page.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import grpc
import grpc.aio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import KEY, canned_process, published_json, summary  # noqa: E402
from clarifai_grpc_client import Client, build_config, create_aio_grpc_channel  # noqa: E402
from clarifai_grpc_client._json_format import to_json  # noqa: E402
from clarifai_grpc_client.proto import (  # noqa: E402
    Data,
    Image,
    Input,
    ListInputsRequest,
    PostModelOutputsRequest,
    UserAppIDSet,
    V2Stub,
)

METADATA = [("authorization", f"Key {KEY}")]
APP = UserAppIDSet(user_id="me", app_id="main")


def predict_request() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(user_app_id=APP, model_id="general-image-recognition",
                                   inputs=[Input(data=Data(image=Image(url="https://samples.example/dog.jpg")))])


def list_request() -> ListInputsRequest:
    return ListInputsRequest(user_app_id=APP, page=1, per_page=128)


def time_sync(call, request, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call(request)
        out.append(time.perf_counter() - t)
    return out


def sync_unary(target: str, calls: int) -> dict[str, dict[str, float]]:
    raw_channel = grpc.insecure_channel(target)
    raw = V2Stub(raw_channel).PostModelOutputs
    ours_client = Client("grpc", f"grpc://{target}", pat=KEY, environ={})
    ours = ours_client.stub.PostModelOutputs
    req = predict_request()
    for _ in range(50):
        raw(req, metadata=METADATA)
        ours(req)
    samples: dict[str, list[float]] = {"raw": [], "ours": []}
    rounds = 20
    for _ in range(rounds):  # interleaved, so drift hits both alike
        samples["raw"] += time_sync(lambda r: raw(r, metadata=METADATA), req, calls // rounds)
        samples["ours"] += time_sync(ours, req, calls // rounds)
    raw_channel.close()
    ours_client.close()
    return {k: summary(v) for k, v in samples.items()}


async def aio_throughput(target: str, seconds: float, in_flight: int = 32) -> dict[str, float]:
    """Calls/s in alternating one-second rounds (raw, raw with our default deadline, ours)."""
    req = predict_request()

    async def run(stub_call, metadata, span: float, **kw) -> float:  # type: ignore[no-untyped-def]
        done = 0
        stop = time.perf_counter() + span

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await stub_call(req, metadata=metadata, **kw)
                done += 1

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return done / (time.perf_counter() - t)

    raw_channel = grpc.aio.insecure_channel(target)
    ours_channel = create_aio_grpc_channel(build_config("grpc", f"grpc://{target}", pat=KEY, environ={}))
    raw, ours = V2Stub(raw_channel).PostModelOutputs, V2Stub(ours_channel).PostModelOutputs
    await run(raw, METADATA, 1.0)
    await run(ours, None, 1.0)
    rounds = max(3, int(seconds))
    samples: dict[str, list[float]] = {"raw": [], "raw_deadline": [], "ours": []}
    for _ in range(rounds):
        samples["raw"].append(await run(raw, METADATA, 1.0))
        samples["raw_deadline"].append(await run(raw, METADATA, 1.0, timeout=60.0))
        samples["ours"].append(await run(ours, None, 1.0))
    await raw_channel.close()
    await ours_channel.close()
    result = {k: statistics.median(v) for k, v in samples.items()}
    result["ratio"] = statistics.median(o / r for o, r in zip(samples["ours"], samples["raw"]))
    return result


def ours_json(http_base: str, calls: int) -> dict[str, dict[str, float]]:
    out = {}
    with Client("json", http_base, pat=KEY, environ={}) as client:
        for name, call, req in (("PostModelOutputs", client.stub.PostModelOutputs, predict_request()),
                                ("ListInputs", client.stub.ListInputs, list_request())):
            for _ in range(30):
                call(req)
            cpu = time.process_time()
            samples = time_sync(call, req, calls)
            out[name] = {**summary(samples), "cpu_ms_per_call": (time.process_time() - cpu) / calls * 1e3}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with canned_process() as server:
        with Client("grpc", f"grpc://{server.grpc_target}", pat=KEY, environ={}) as client:
            concepts = len(client.PostModelOutputs(predict_request()).outputs[0].data.concepts)
            inputs = len(client.ListInputs(list_request()).inputs)
        print(f"PostModelOutputs answers with {concepts} concepts; ListInputs with {inputs} inputs")
        unary = sync_unary(server.grpc_target, args.calls)
        print("\n1. sync unary PostModelOutputs over gRPC")
        for k, v in unary.items():
            print(f"   {k:<5} p50 {v['p50_ms']:.3f} ms  p99 {v['p99_ms']:.3f} ms")
        print(f"   ours/raw: p50 {unary['ours']['p50_ms'] / unary['raw']['p50_ms']:.3f}  "
              f"p99 {unary['ours']['p99_ms'] / unary['raw']['p99_ms']:.3f}")
        aio = asyncio.run(aio_throughput(server.grpc_target, args.seconds))
        print("\n2. grpc.aio, 32 calls in flight")
        print(f"   raw {aio['raw']:.0f} calls/s  raw with a 60 s deadline {aio['raw_deadline']:.0f} calls/s  "
              f"ours (60 s default deadline) {aio['ours']:.0f} calls/s")
        print(f"   ours/raw: {aio['ratio']:.3f} (median of per-round ratios)")
        json_calls = max(200, args.calls // 4)
        ours = ours_json(server.http_base, json_calls)
        theirs = published_json(server.http_base, {"PostModelOutputs": ("PostModelOutputs", to_json(predict_request())),
                                                          "ListInputs": ("ListInputs", to_json(list_request()))}, json_calls)
        print("\n3. HTTP/JSON: ours vs the published JSON channel")
        for name in ("PostModelOutputs", "ListInputs"):
            o, t = ours[name], theirs[name]
            print(f"   {name:<17} p50 ours {o['p50_ms']:.3f} ms / published {t['p50_ms']:.3f} ms = {o['p50_ms'] / t['p50_ms']:.3f};"
                  f"  CPU/call ours {o['cpu_ms_per_call']:.3f} ms / published {t['cpu_ms_per_call']:.3f} ms"
                  f" = {o['cpu_ms_per_call'] / t['cpu_ms_per_call']:.3f}")


if __name__ == "__main__":
    main()
