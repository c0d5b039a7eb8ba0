"""Fixtures for the OpenTelemetry tests: an SDK tracer and meter exporting to memory, and an emulator.

Spans go to an in-memory exporter and measurements to an in-memory reader, so each test reads
back exactly what a collector would receive from the calls it made against real servers on
127.0.0.1 (the scripted server of the root conftest, or the emulator for streams).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.otel import OpenTelemetry

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
