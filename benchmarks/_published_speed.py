"""The published clarifai-grpc JSON channel, timed in its own process, for ``bench_speed.py``.

    python benchmarks/_published_speed.py HTTP_BASE KEY CALLS < '{"label": ["RpcName", "<request JSON>"], ...}'

The requests come on stdin (a 100 KiB image does not fit in one command-line argument). It
registers clarifai.api.* in the default descriptor pool, like our package, so the two never
share a process. Prints p50 (ms) and client CPU per call (ms) for each label as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import service_pb2, service_pb2_grpc
from google.protobuf import json_format


def main() -> None:
    base, key, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    requests_json = json.load(sys.stdin)
    stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=base))
    metadata = (("authorization", f"Key {key}"),)
    out = {}
    for label, (rpc, text) in requests_json.items():
        request = json_format.Parse(text, getattr(service_pb2, rpc + "Request")())
        call = getattr(stub, rpc)
        for _ in range(30):
            call(request, metadata=metadata)
        samples = []
        cpu = time.process_time()
        for _ in range(calls):
            t = time.perf_counter()
            call(request, metadata=metadata)
            samples.append(time.perf_counter() - t)
        samples.sort()
        out[label] = {"p50_ms": samples[len(samples) // 2] * 1e3,
                      "cpu_ms_per_call": (time.process_time() - cpu) / calls * 1e3}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
