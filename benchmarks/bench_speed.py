"""The speed table, side by side in one run: ours against raw floors and the published client.

    python benchmarks/bench_speed.py [--rounds 15] [--calls 100] [--seconds 1]

Against ``benchmarks/canned_server.py`` in its own process (answers cost the server next to
nothing). Each row alternates ours and its floor in rounds; a row's ratio is the median of the
per-round ratios (their range in brackets):

1. PostModelOutputs over JSON, one URL input, p50: our ``Client("json")`` stub vs a raw
   ``httpx.Client`` POST of the body serialized once (the floor), and the published
   ``clarifai-grpc`` JSON channel (its own process, ``_published_json.py``);
2. the same with a 100 KiB image sent as bytes (base64 in the JSON body);
3. ListInputs with 128 inputs per page over JSON (the floor reads the body, parses nothing);
4. ``AsyncClient("json")`` with 32 calls in flight vs ``AsyncClient("grpc")``: calls/s; raw
   ``httpx.AsyncClient`` (and ``aiohttp``, when importable) with the same 32 in flight, for the
   library floor;
5. checked ``client.PostModelOutputs`` over gRPC vs the raw stub on a plain channel: p50 and
   client CPU per call;
6. cold ``import clarifai_grpc_client`` vs the published ``ClarifaiChannel`` + ``service_pb2_grpc``,
   and the same with a client's stub built (what a first call needs)
   (fresh interpreters, wall time of the import, both from bytecode as an installed package is);
7. reading a server stream's bytes into messages vs a plain ``json.loads`` loop over its lines;
8. what bounds rows 3 and 7, with no Python work per field at all: ``json.loads`` of a body and
   the C constructor building its message from arguments prepared beforehand, beside our reader,
   and the ratio the raw urllib3 read plus those two would reach against the raw httpx floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import KEY, canned_process, published_json  # noqa: E402
from clarifai_grpc_client import AsyncClient, Client  # noqa: E402
from clarifai_grpc_client._calls import v2_method  # noqa: E402
from clarifai_grpc_client._json_format import to_json  # noqa: E402
from clarifai_grpc_client._protobuf_compat import is_repeated  # noqa: E402
from clarifai_grpc_client._transports._json_wire import Prepared, rule_of  # noqa: E402
from clarifai_grpc_client.proto import (  # noqa: E402
    Data,
    Image,
    Input,
    ListInputsRequest,
    MultiOutputResponse,
    PostModelOutputsRequest,
    UserAppIDSet,
    V2Stub,
)

METADATA = (("authorization", f"Key {KEY}"),)
APP = UserAppIDSet(user_id="me", app_id="main")
IMAGE = bytes(range(256)) * 400  # 100 KiB


def predict(image: bytes | None = None) -> PostModelOutputsRequest:
    img = Image(base64=image) if image else Image(url="https://samples.example/dog.jpg")
    return PostModelOutputsRequest(user_app_id=APP, model_id="general-image-recognition",
                                   inputs=[Input(data=Data(image=img))])


CASES: dict[str, tuple[str, Any]] = {
    "predict, 1 URL input": ("PostModelOutputs", predict()),
    "predict, 100 KiB image": ("PostModelOutputs", predict(IMAGE)),
    "ListInputs 128 per page": ("ListInputs", ListInputsRequest(user_app_id=APP, page=1, per_page=128)),
}


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(call: Callable[[], Any], n: int) -> tuple[float, float]:
    """p50 seconds and client CPU seconds per call over ``n`` calls."""
    out = []
    cpu = time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append(time.perf_counter() - t)
    return p50(out), (time.process_time() - cpu) / n


def ratios(pairs: list[tuple[float, float]]) -> str:
    r = sorted(a / b for a, b in pairs)
    return f"{statistics.median(r):.2f} [{r[0]:.2f}..{r[-1]:.2f}]"


def json_rows(base: str, rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    """Rows 1-3: ours vs the raw httpx floor, alternating per round."""
    out: dict[str, dict[str, Any]] = {}
    raw = httpx.Client(base_url=base, timeout=None, trust_env=False)
    pool = urllib3.HTTPConnectionPool(urlsplit(base).hostname, urlsplit(base).port, maxsize=1)
    with Client("json", base, pat=KEY, environ={}) as client:
        for label, (rpc, request) in CASES.items():
            prepared = Prepared(rpc, rule_of(v2_method(rpc)), request, METADATA, 1 << 30)
            verb, url, body, headers = prepared.verb, prepared.url, prepared.body, prepared.headers
            stub_call = getattr(client.stub, rpc)

            def floor() -> None:
                raw.request(verb, url, content=body, headers=headers).read()

            def floor_urllib3() -> None:
                pool.urlopen(verb, url, body=body, headers=headers)

            def ours() -> None:
                stub_call(request)

            for _ in range(30):
                floor()
                ours()
            pairs, cpu_pairs, lib_pairs, o_p50, f_p50 = [], [], [], [], []
            for i in range(rounds):
                first, second = (ours, floor) if i % 2 else (floor, ours)
                a = timed(first, calls)
                b = timed(second, calls)
                o, f = (a, b) if first is ours else (b, a)
                pairs.append((o[0], f[0]))
                cpu_pairs.append((o[1], f[1]))
                lib_pairs.append((timed(floor_urllib3, calls)[0], f[0]))
                o_p50.append(o[0])
                f_p50.append(f[0])
            out[label] = {"ours": p50(o_p50), "floor": p50(f_p50), "ratio": ratios(pairs),
                          "cpu_ratio": ratios(cpu_pairs), "urllib3": ratios(lib_pairs)}
    raw.close()
    pool.close()
    return out


async def in_flight(call: Callable[[], Any], seconds: float, n: int = 32) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(n)))
    return done / (time.perf_counter() - t)


async def async_rows(server: Any, rounds: int, seconds: float) -> dict[str, Any]:
    """Row 4: calls/s with 32 in flight, each side in turn per round."""
    rpc, request = CASES["predict, 1 URL input"]
    prepared = Prepared(rpc, rule_of(v2_method(rpc)), request, METADATA, 1 << 30)
    sides: dict[str, Callable[[], Any]] = {}
    json_client = AsyncClient("json", server.http_base, pat=KEY, environ={})
    grpc_client = AsyncClient("grpc", f"grpc://{server.grpc_target}", pat=KEY, environ={})
    raw_httpx = httpx.AsyncClient(base_url=server.http_base, timeout=None, trust_env=False,
                                  limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
    sides["ours grpc"] = lambda: grpc_client.stub.PostModelOutputs(request)
    sides["ours json"] = lambda: json_client.stub.PostModelOutputs(request)

    async def httpx_post() -> None:
        r = await raw_httpx.request(prepared.verb, prepared.url, content=prepared.body, headers=prepared.headers)
        await r.aread()

    sides["raw httpx"] = httpx_post
    session = None
    try:
        import aiohttp

        session = aiohttp.ClientSession(server.http_base, connector=aiohttp.TCPConnector(limit=32))

        async def aiohttp_post() -> None:
            assert session is not None
            async with session.request(prepared.verb, prepared.url, data=prepared.body,
                                       headers=prepared.headers) as r:
                await r.read()

        sides["raw aiohttp"] = aiohttp_post
    except ImportError:
        pass
    for call in sides.values():
        await in_flight(call, 0.5)
    samples: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(rounds):
        for k, call in sides.items():
            samples[k].append(await in_flight(call, seconds))
    await json_client.close()
    await grpc_client.close()
    await raw_httpx.aclose()
    if session is not None:
        await session.close()
    out: dict[str, Any] = {k: p50(v) for k, v in samples.items()}
    out["json/grpc"] = ratios(list(zip(samples["ours json"], samples["ours grpc"])))
    out["httpx/grpc"] = ratios(list(zip(samples["raw httpx"], samples["ours grpc"])))
    if "raw aiohttp" in samples:
        out["aiohttp/grpc"] = ratios(list(zip(samples["raw aiohttp"], samples["ours grpc"])))
    return out


def checked_row(target: str, rounds: int, calls: int) -> dict[str, Any]:
    """Row 5: ``client.PostModelOutputs`` vs the raw stub, p50 and CPU per call."""
    _, request = CASES["predict, 1 URL input"]
    channel = grpc.insecure_channel(target)
    raw = V2Stub(channel).PostModelOutputs
    client = Client("grpc", f"grpc://{target}", pat=KEY, environ={})

    def floor() -> None:
        raw(request, metadata=METADATA)

    def floor_deadline() -> None:  # the client's default 60 s deadline, which a gRPC timer costs
        raw(request, metadata=METADATA, timeout=60.0)

    def ours() -> None:
        client.PostModelOutputs(request)

    for _ in range(100):
        floor()
        ours()
    pairs, cpu_pairs, d_pairs, d_cpu_pairs, o_p50, f_p50 = [], [], [], [], [], []
    sides = [ours, floor, floor_deadline]
    for i in range(rounds):  # each side takes each place in turn, so no side always runs first or last
        order = sides[i % 3:] + sides[:i % 3]
        got = {side: timed(side, calls * 4) for side in order}
        o, f, d = got[ours], got[floor], got[floor_deadline]
        pairs.append((o[0], f[0]))
        cpu_pairs.append((o[1], f[1]))
        d_pairs.append((o[0], d[0]))
        d_cpu_pairs.append((o[1], d[1]))
        o_p50.append(o[0])
        f_p50.append(f[0])
    client.close()
    channel.close()
    own = own_work(request, calls * 100)
    return {"ours": p50(o_p50), "floor": p50(f_p50), "ratio": ratios(pairs), "cpu_ratio": ratios(cpu_pairs),
            "deadline_ratio": ratios(d_pairs), "deadline_cpu_ratio": ratios(d_cpu_pairs),
            "own": own, "own_share": own / p50([c[1] for c in d_cpu_pairs])}


def own_work(request: Any, calls: int) -> float:
    """The client's own work per ``client.PostModelOutputs`` (seconds): the call on an exchange that
    answers at once, less that exchange alone; the minimum of seven runs with gc off, so that the
    figure is the part the client controls, free of the loopback round trip's noise."""
    import gc

    reply = MultiOutputResponse(status={"code": 10000})  # type: ignore[arg-type]  # SUCCESS

    def instant(request: Any, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
        return reply

    client = Client("grpc", "grpc://127.0.0.1:1", pat=KEY, environ={})
    method = v2_method("PostModelOutputs")
    client._exchanges[("PostModelOutputs", "unary_unary")] = (method, instant)  # the one private hook: no I/O at all

    def best(call: Callable[[], Any]) -> float:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(calls):
                call()
            runs.append((time.perf_counter() - start) / calls)
        return min(runs)

    gc.disable()
    try:
        return best(lambda: client.PostModelOutputs(request)) - best(lambda: instant(request, timeout=60.0, metadata=METADATA))
    finally:
        gc.enable()
        client.close()


IMPORTS = {
    "import": {"ours": "import clarifai_grpc_client",
               "official": "from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel\n"
                           "from clarifai_grpc.grpc.api import service_pb2_grpc"},
    # What the first call needs: the import, a channel and the stub (no connection is made), both
    # aimed at the public API over TLS.
    "stub ready": {"ours": "import clarifai_grpc_client as c\n"
                           "c.Client(pat='k', environ={}).stub",
                   "official": "from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel\n"
                               "from clarifai_grpc.grpc.api import service_pb2_grpc\n"
                               "service_pb2_grpc.V2Stub(ClarifaiChannel.get_grpc_channel())"},
}


def import_row(rounds: int) -> dict[str, dict[str, Any]]:
    """Row 6: fresh interpreters, alternating, wall time of the code alone (interpreter start excluded):
    the import, and the import with a client's stub built."""
    # Both sides from bytecode, as installed: the first run writes the missing .pyc files.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def once(code: str) -> float:
        probe = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
        return float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                                    check=True).stdout)

    out: dict[str, dict[str, Any]] = {}
    for label, codes in IMPORTS.items():
        for code in codes.values():
            once(code)
        pairs = []
        for i in range(rounds):
            order = ["ours", "official"] if i % 2 else ["official", "ours"]
            got = {k: once(codes[k]) for k in order}
            pairs.append((got["ours"], got["official"]))
        out[label] = {"ours": p50([a for a, _ in pairs]), "official": p50([b for _, b in pairs]),
                      "ratio": ratios(pairs)}
    return out


def stream_row(rounds: int) -> dict[str, Any]:
    """Row 7: reading a server stream's bytes (no I/O): our splitter and decoder, to messages, vs a
    plain ``json.loads`` loop over the same lines. Streamed inputs (a ``StreamInputs``-like page of 128
    inputs per message) and generated text (one short output per message)."""
    from clarifai_grpc_client._transports._json_wire import JsonSequence, stream_item
    from clarifai_grpc_client.proto import MultiInputResponse, Output

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import canned_server

    small = MultiOutputResponse(outputs=[Output(id="o", data=Data(text={"raw": "word"}))])  # type: ignore[arg-type]
    kinds = {"pages of 128 inputs": (MultiInputResponse, canned_server.BODIES["ListInputs"], 20),
             "one word per message": (MultiOutputResponse, to_json(small), 2000)}
    out: dict[str, Any] = {}
    for label, (cls, body, count) in kinds.items():
        stream = b"".join(b'{"result":' + body + b"}\n" for _ in range(count))
        chunks = [stream[i:i + 16384] for i in range(0, len(stream), 16384)]

        def ours() -> None:
            seq = JsonSequence()
            for chunk in chunks:
                for node in seq.feed(chunk):
                    stream_item("S", cls, node)

        def floor() -> None:
            for line in stream.splitlines():
                json.loads(line)

        pairs = []
        for _ in range(rounds):
            a, b = timed(ours, 1)[0], timed(floor, 1)[0]
            pairs.append((a, b))
        out[label] = ratios(pairs)
    return out


def prepared_kwargs(msg: Any) -> dict[str, Any]:
    """Constructor arguments that rebuild ``msg`` with no conversion left: nested messages as dicts,
    well-known types (timestamps, structs) as ready messages, enums as numbers."""
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        mt = fd.message_type
        if mt is None or mt.full_name.startswith("google.protobuf."):
            out[fd.name] = list(value) if is_repeated(fd) else value
        elif mt.GetOptions().map_entry:
            nested = mt.fields_by_name["value"].message_type is not None
            out[fd.name] = {k: prepared_kwargs(v) if nested else v for k, v in value.items()}
        elif is_repeated(fd):
            out[fd.name] = [prepared_kwargs(v) for v in value]
        else:
            out[fd.name] = prepared_kwargs(value)
    return out


def visit_keys(node: Any) -> int:
    """One Python step per key of a decoded document: the least any reader must do, since the
    constructor refuses the unknown and lowerCamelCase names a JSON document may hold."""
    if type(node) is dict:
        return sum(1 + visit_keys(v) for v in node.values())
    if type(node) is list:
        return sum(visit_keys(v) for v in node)
    return 0


def floor_row(base: str, rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    """Row 8: the parts of rows 3 and 7 that no reader can avoid, timed side by side with ours."""
    from clarifai_grpc_client._json_format import parse_json
    from clarifai_grpc_client.proto import MultiInputResponse, Output

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import canned_server

    small = MultiOutputResponse(outputs=[Output(id="o", data=Data(text={"raw": "word"}))])  # type: ignore[arg-type]
    page = canned_server.BODIES["ListInputs"]
    kinds = {"ListInputs 128 per page": (MultiInputResponse, page), "one word per message": (MultiOutputResponse, to_json(small))}
    raw = httpx.Client(base_url=base, timeout=None, trust_env=False)
    pool = urllib3.HTTPConnectionPool(urlsplit(base).hostname, urlsplit(base).port, maxsize=1)
    prepared = Prepared("ListInputs", rule_of(v2_method("ListInputs")), CASES["ListInputs 128 per page"][1], METADATA, 1 << 30)
    verb, url, body, headers = prepared.verb, prepared.url, prepared.body, prepared.headers
    out: dict[str, dict[str, Any]] = {}
    for label, (cls, doc) in kinds.items():
        kwargs = prepared_kwargs(parse_json(doc, cls()))
        assert cls(**kwargs) == parse_json(doc, cls()), "the prepared arguments must rebuild the same message"
        n = calls if cls is MultiInputResponse else calls * 50
        parts: dict[str, Callable[[], Any]] = {
            "json.loads": lambda doc=doc: json.loads(doc),
            "constructor": lambda cls=cls, kwargs=kwargs: cls(**kwargs),
            "key walk": lambda tree=json.loads(doc): visit_keys(tree),
            "our reader": lambda cls=cls, doc=doc: parse_json(doc, cls()),
        }
        if cls is MultiInputResponse:
            parts["raw httpx read"] = lambda: raw.request(verb, url, content=body, headers=headers).read()
            parts["raw urllib3 read"] = lambda: pool.urlopen(verb, url, body=body, headers=headers)
        samples: dict[str, list[float]] = {k: [] for k in parts}
        for _ in range(rounds):
            for k, part in parts.items():
                samples[k].append(timed(part, n)[0])
        row = {k: p50(v) for k, v in samples.items()}
        unavoidable = row["json.loads"] + row["constructor"]
        against = row["json.loads"]
        if cls is MultiInputResponse:
            unavoidable += row["raw urllib3 read"]
            against = row["raw httpx read"]
        row["no-Python floor"] = unavoidable / against
        row["with the key walk"] = (unavoidable + row["key walk"]) / against
        out[label] = row
    raw.close()
    pool.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100, help="calls per side per round")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per side per async round")
    parser.add_argument("--only", default="12345678", help="rows to run, e.g. 14")
    args = parser.parse_args()
    with canned_process() as server:
        if set("123") & set(args.only):
            rows = json_rows(server.http_base, args.rounds, args.calls)
            theirs = published_json(server.http_base, {label: (rpc, to_json(req)) for label, (rpc, req) in CASES.items()},
                                    args.calls * 5)
            print("rows 1-3: JSON, p50 per call (ours / raw httpx floor; ours / published clarifai-grpc)")
            for label, row in rows.items():
                t = theirs[label]
                print(f"  {label:<24} ours {row['ours'] * 1e6:7.0f} us  floor {row['floor'] * 1e6:7.0f} us  "
                      f"ours/floor {row['ratio']}  CPU ours/floor {row['cpu_ratio']}  "
                      f"published {t['p50_ms'] * 1e3:7.0f} us  ours/published {row['ours'] * 1e3 / t['p50_ms']:.2f}  "
                      f"(raw urllib3/raw httpx {row['urllib3']})")
        if "4" in args.only:
            a = asyncio.run(async_rows(server, max(3, args.rounds // 3), args.seconds))
            print("row 4: async, 32 calls in flight, calls/s")
            print("  " + "  ".join(f"{k} {v:.0f}" for k, v in a.items() if isinstance(v, float)))
            print("  " + "  ".join(f"{k} {v}" for k, v in a.items() if isinstance(v, str)))
        if "5" in args.only:
            c = checked_row(server.grpc_target, args.rounds, args.calls)
            print(f"row 5: checked client.PostModelOutputs over gRPC: ours {c['ours'] * 1e6:.0f} us  raw stub "
                  f"{c['floor'] * 1e6:.0f} us  p50 ours/raw {c['ratio']}  CPU ours/raw {c['cpu_ratio']}")
            print(f"       against the raw stub with the same 60 s deadline: p50 {c['deadline_ratio']}  "
                  f"CPU {c['deadline_cpu_ratio']}")
            print(f"       the client's own work: {c['own'] * 1e6:.2f} us per call, {c['own_share']:.1%} of the raw stub's CPU per call")
        if "6" in args.only:
            for label, i in import_row(args.rounds).items():
                print(f"row 6: cold {label}: ours {i['ours'] * 1e3:.0f} ms  official {i['official'] * 1e3:.0f} ms  "
                      f"ours/official {i['ratio']}")
        if "7" in args.only:
            st = stream_row(args.rounds)
            print("row 7: reading streamed JSON to messages vs a json.loads loop over the same lines: "
                  + "  ".join(f"{k} {v}" for k, v in st.items()))
        if "8" in args.only:
            print("row 8: what bounds rows 3 and 7, p50 per call (no-Python floor: rows 3 against raw httpx, 7 against json.loads)")
            for label, row in floor_row(server.http_base, args.rounds, args.calls).items():
                print(f"  {label:<24} " + "  ".join(
                    f"{k} {v:.2f}x" if k in ("no-Python floor", "with the key walk") else f"{k} {v * 1e6:.1f} us" for k, v in row.items()))


if __name__ == "__main__":
    main()
