"""The published clarifai-grpc JSON channel, timed in its own process (it registers clarifai.api.*
in the default descriptor pool, like our package, so the two never share a process).

    python benchmarks/_published_json.py HTTP_BASE KEY CALLS < '{"label": ["RpcName", "<request JSON>"], ...}'

The requests come on stdin (a 100 KiB image does not fit in one command-line argument). Prints,
per label as JSON, p50, p99 and mean wall time and client CPU per call, in milliseconds.
"""

from __future__ import annotations

import json
import statistics
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
        cpu_per_call = (time.process_time() - cpu) / calls
        samples.sort()
        out[label] = {"p50_ms": samples[len(samples) // 2] * 1e3, "p99_ms": samples[int(0.99 * (len(samples) - 1))] * 1e3,
                      "mean_ms": statistics.fmean(samples) * 1e3, "cpu_ms_per_call": cpu_per_call * 1e3}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
