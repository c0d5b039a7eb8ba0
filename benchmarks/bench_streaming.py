"""Streaming overhead, side by side in one run, against the emulator in another process.

    python benchmarks/bench_streaming.py [--rounds 15] [--words 200]

``GenerateModelOutputs`` on the emulator's ``text-generation`` stand-in (one message per word
of the prompt, no pause between messages), in interleaved rounds so that drift hits both sides:

1. gRPC sync: the raw generated stub on a plain ``grpc.insecure_channel`` vs ``Client``;
2. gRPC ``asyncio``: the raw stub on a plain ``grpc.aio`` channel vs ``AsyncClient``;
3. HTTP/JSON sync and async: a raw httpx streaming read that only splits the body into lines
   vs ``Client``/``AsyncClient`` (which also parse every message into its protobuf class).

Reported per side: time to first message (median over rounds), wall time per message after
the first, and client CPU per message (``time.process_time``, all the client's threads), with
the ratios ours/raw. The two sides alternate which goes first in each round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import KEY, emulator_process  # noqa: E402
from clarifai_grpc_client import AsyncClient, Client  # noqa: E402
from clarifai_grpc_client._json_format import to_dict  # noqa: E402
from clarifai_grpc_client.proto import Data, Input, PostModelOutputsRequest, Text, UserAppIDSet, V2Stub  # noqa: E402

METADATA = (("authorization", f"Key {KEY}"),)
Sample = tuple[float, float, float, int]  # first-message seconds, seconds per message, CPU per message, messages


def request(words: int) -> PostModelOutputsRequest:
    prompt = " ".join(f"w{i}" for i in range(words))
    return PostModelOutputsRequest(user_app_id=UserAppIDSet(user_id="me", app_id="main"), model_id="text-generation",
                                   inputs=[Input(data=Data(text=Text(raw=prompt)))])


def measure(iterate: Callable[[], Any]) -> Sample:
    cpu, start = time.process_time(), time.perf_counter()
    first = last = start
    n = 0
    for _ in iterate():
        last = time.perf_counter()
        if n == 0:
            first = last
        n += 1
    cpu = time.process_time() - cpu
    per = (last - first) / max(1, n - 1)
    return first - start, per, cpu / max(1, n), n


async def ameasure(iterate: Callable[[], Any]) -> Sample:
    cpu, start = time.process_time(), time.perf_counter()
    first = last = start
    n = 0
    async for _ in iterate():
        last = time.perf_counter()
        if n == 0:
            first = last
        n += 1
    cpu = time.process_time() - cpu
    return first - start, (last - first) / max(1, n - 1), cpu / max(1, n), n


def order(i: int) -> tuple[str, str]:
    """Which side goes first in round ``i``: alternating, so neither always follows the other."""
    return ("raw", "ours") if i % 2 == 0 else ("ours", "raw")


def report(title: str, samples: dict[str, list[Sample]]) -> None:
    med = {k: [statistics.median(s[i] for s in v) for i in range(3)] for k, v in samples.items()}
    raw, ours = med["raw"], med["ours"]
    n = samples["ours"][0][3]
    print(f"{title} ({n} messages a stream, medians of {len(samples['ours'])} rounds)")
    for side in ("raw", "ours"):
        first, per, cpu = med[side]
        print(f"    {side:4}  first message {first * 1e3:7.2f} ms   per message {per * 1e6:7.1f} us wall, "
              f"{cpu * 1e6:7.1f} us CPU")
    print(f"    ours/raw  first message {ours[0] / raw[0]:.3f}   per message {ours[1] / raw[1]:.3f} wall, "
          f"{ours[2] / raw[2]:.3f} CPU")


def grpc_sync(target: str, req: PostModelOutputsRequest, rounds: int) -> None:
    channel = grpc.insecure_channel(target)
    raw = V2Stub(channel).GenerateModelOutputs
    with Client("grpc", f"grpc://{target}", pat=KEY, environ={}) as client:
        sides = {"raw": lambda: raw(req, metadata=METADATA, timeout=600), "ours": lambda: client.GenerateModelOutputs(req)}
        for make in sides.values():
            measure(make)
        samples: dict[str, list[Sample]] = {"raw": [], "ours": []}
        for i in range(rounds):
            for side in order(i):
                samples[side].append(measure(sides[side]))
    channel.close()
    report("gRPC sync, GenerateModelOutputs", samples)


async def grpc_aio(target: str, req: PostModelOutputsRequest, rounds: int) -> None:
    channel = grpc.aio.insecure_channel(target)
    raw = V2Stub(channel).GenerateModelOutputs
    async with AsyncClient("grpc", f"grpc://{target}", pat=KEY, environ={}) as client:
        sides = {"raw": lambda: raw(req, metadata=METADATA, timeout=600), "ours": lambda: client.GenerateModelOutputs(req)}
        for make in sides.values():
            await ameasure(make)
        samples: dict[str, list[Sample]] = {"raw": [], "ours": []}
        for i in range(rounds):
            for side in order(i):
                samples[side].append(await ameasure(sides[side]))
    await channel.close()
    report("gRPC asyncio, GenerateModelOutputs", samples)


def json_sync(base: str, req: PostModelOutputsRequest, rounds: int) -> None:
    url = f"/v2/users/me/apps/main/models/{req.model_id}/outputs/generate"
    body = json.dumps({k: v for k, v in to_dict(req).items() if k not in ("user_app_id", "model_id")}).encode()
    headers = {"authorization": f"Key {KEY}", "content-type": "application/json"}
    with httpx.Client(base_url=base, timeout=600) as http, Client("json", base, pat=KEY, environ={}) as client:
        def raw() -> Any:
            with http.stream("POST", url, content=body, headers=headers) as resp:
                yield from (line for line in resp.iter_lines() if line)

        sides = {"raw": raw, "ours": lambda: client.GenerateModelOutputs(req)}
        for make in sides.values():
            measure(make)
        samples: dict[str, list[Sample]] = {"raw": [], "ours": []}
        for i in range(rounds):
            for side in order(i):
                samples[side].append(measure(sides[side]))
    report("HTTP/JSON sync, GenerateModelOutputs (raw: httpx lines only)", samples)


async def json_async(base: str, req: PostModelOutputsRequest, rounds: int) -> None:
    url = f"/v2/users/me/apps/main/models/{req.model_id}/outputs/generate"
    body = json.dumps({k: v for k, v in to_dict(req).items() if k not in ("user_app_id", "model_id")}).encode()
    headers = {"authorization": f"Key {KEY}", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=base, timeout=600) as http, \
            AsyncClient("json", base, pat=KEY, environ={}) as client:
        async def raw() -> Any:
            async with http.stream("POST", url, content=body, headers=headers) as resp:
                async for line in resp.aiter_lines():
                    if line:
                        yield line

        sides = {"raw": raw, "ours": lambda: client.GenerateModelOutputs(req)}
        for make in sides.values():
            await ameasure(make)
        samples: dict[str, list[Sample]] = {"raw": [], "ours": []}
        for i in range(rounds):
            for side in order(i):
                samples[side].append(await ameasure(sides[side]))
    report("HTTP/JSON asyncio, GenerateModelOutputs (raw: httpx lines only)", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--words", type=int, default=200, help="messages per stream")
    args = parser.parse_args()
    req = request(args.words)
    with tempfile.TemporaryDirectory() as tmp, emulator_process(str(Path(tmp) / "bench.db"),
                                                                "--stream-delay", "0") as server:
        grpc_sync(server.grpc_target, req, args.rounds)
        asyncio.run(grpc_aio(server.grpc_target, req, args.rounds))
        json_sync(server.http_base, req, args.rounds)
        asyncio.run(json_async(server.http_base, req, args.rounds))


if __name__ == "__main__":
    main()
