"""Fixtures for the OpenTelemetry tests: an SDK tracer and meter exporting to memory, and an emulator.

Spans go to an in-memory exporter and measurements to an in-memory reader, so each test reads
back exactly what a collector would receive from the calls it made against real servers on
127.0.0.1 (the scripted server of the root conftest, or the emulator for streams).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.otel import OpenTelemetry
from clarifai_grpc_client.proto import MultiOutputResponse, PostModelOutputsRequest
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

EMULATOR_KEY = "otel-test-key-5f4e3d2c1b"


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def observer(self, propagate: bool = False) -> OpenTelemetry:
        return OpenTelemetry(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider,
                             propagate=propagate)

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans in the order they started (optionally only those called ``name``)."""
        found = [s for s in self.exporter.get_finished_spans() if name is None or s.name == name]
        return sorted(found, key=lambda s: s.start_time or 0)

    def duration_points(self) -> list[Any]:
        """The ``rpc.client.duration`` histogram points collected so far."""
        data = self.reader.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == "rpc.client.duration":
                        points.extend(metric.data.data_points)
        return points

    def exported_text(self) -> str:
        """Everything exported, as the JSON an exporter would write."""
        data = self.reader.get_metrics_data()
        return "\n".join([s.to_json() for s in self.exporter.get_finished_spans()]
                         + ([data.to_json()] if data is not None else []))


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(tracer_provider, meter_provider, exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(EMULATOR_KEY,)) as e:
        yield e


@dataclass
class StreamServer:
    """A gRPC server and an HTTP server streaming two messages for any GenerateModelOutputs call,
    recording the metadata (gRPC) or headers (HTTP) of each call."""

    grpc_target: str = ""
    http_base: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)

    def base(self, transport: str) -> str:
        return f"grpc://{self.grpc_target}" if transport == "grpc" else self.http_base


def _messages() -> list[MultiOutputResponse]:
    return [MultiOutputResponse(status={"code": status_code_pb2.SUCCESS}) for _ in range(2)]


@pytest.fixture
def stream_server() -> Iterator[StreamServer]:
    found = StreamServer()

    def generate(request: PostModelOutputsRequest, context: grpc.ServicerContext) -> Iterator[MultiOutputResponse]:
        found.seen.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        yield from _messages()

    handler = grpc.method_handlers_generic_handler("clarifai.api.V2", {
        "GenerateModelOutputs": grpc.unary_stream_rpc_method_handler(
            generate, request_deserializer=PostModelOutputsRequest.FromString,
            response_serializer=MultiOutputResponse.SerializeToString),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            found.seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            for _ in _messages():
                self.wfile.write(json.dumps({"result": {"status": {"code": status_code_pb2.SUCCESS}}}).encode() + b"\n")

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    found.grpc_target, found.http_base = f"127.0.0.1:{port}", f"http://127.0.0.1:{http.server_address[1]}"
    try:
        yield found
    finally:
        http.shutdown()
        http.server_close()
        thread.join(5)
        server.stop(None).wait(5)
