"""OpenTelemetry spans and metrics for every call attempt (the ``otel`` extra).

``Client(..., observers=[OpenTelemetry()])`` (or ``AsyncClient``) records each attempt of each
call (unary or streaming, sync or ``asyncio``, on either transport) as one CLIENT span and one
``rpc.client.duration`` measurement, following OpenTelemetry's RPC semantic conventions.

Choices:

- Both transports get RPC spans with ``rpc.system`` ``grpc``. The JSON API is the same gRPC
  service transcoded by its ``google.api.http`` rules, with the same methods and gRPC status
  codes (mapped from HTTP ones), so one method's spans and measurements group together whatever
  the transport; ``clarifai.transport`` (``grpc`` or ``json``) tells them apart. A failed
  HTTP answer without a gRPC status adds ``http.response.status_code``, and its
  ``rpc.grpc.status_code`` is the one gRPC maps that HTTP status to.
- A retried call is several sibling spans (one per attempt), children of the span current when
  the call was made, each with ``clarifai.attempt`` (1, 2, ...) and ``clarifai.will_retry``. A
  stream's attempt span lasts until the stream ends, fails, is closed or is dropped.
- Trace context propagation (``traceparent`` and whatever else the configured propagator
  writes, as gRPC metadata or HTTP headers) is off unless ``propagate=True``: the API is a
  third-party service, and trace identifiers should only cross that boundary on purpose.
- Nothing of the payloads or credentials is recorded: no metadata values, no request or
  response bodies, no server error texts; only names, codes, the address and timings.

The package itself never imports OpenTelemetry; only importing this module does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

import grpc

from ._config import CallEvent, ChannelConfig, Target
from ._errors import grpc_code_for_http
from ._version import __version__

try:
    from opentelemetry import metrics, trace
    from opentelemetry import propagate as propagation
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
    from opentelemetry.util.types import AttributeValue
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "clarifai_grpc_client.otel needs OpenTelemetry: pip install 'clarifai-grpc-client[otel]'"
    ) from exc

__all__ = ["OpenTelemetry", "attempt_attributes", "base_attributes", "span_name"]

SERVICE = "clarifai.api.V2"
_HTTP = re.compile(r"HTTP (\d{3})")


def span_name(method: str) -> str:
    """The span name the conventions ask for: ``package.Service/Method``."""
    return f"{SERVICE}/{method}"


def base_attributes(method: str, target: Target) -> dict[str, AttributeValue]:
    """The attributes an attempt has from its start: what is called, where and how."""
    return {
        "rpc.system": "grpc",
        "rpc.service": SERVICE,
        "rpc.method": method,
        "server.address": target.host.strip("[]"),
        "server.port": target.port,
        "clarifai.transport": target.transport,
    }


def grpc_status_number(name: str) -> int | None:
    """The number of a gRPC status code name (``OK``: 0), None for anything else."""
    try:
        return int(grpc.StatusCode[name].value[0])
    except KeyError:
        return None


def attempt_attributes(event: CallEvent) -> dict[str, AttributeValue]:
    """The attributes an attempt's outcome adds: status codes and the retry decision."""
    out: dict[str, AttributeValue] = {"clarifai.attempt": event.attempt, "clarifai.will_retry": event.will_retry}
    number = grpc_status_number(event.grpc_code)
    http = _HTTP.fullmatch(event.grpc_code)
    if http:
        out["http.response.status_code"] = int(http.group(1))
        number = int(grpc_code_for_http(int(http.group(1))).value[0])
    if number is not None:
        out["rpc.grpc.status_code"] = number
    if event.status_code:
        out["clarifai.status_code"] = event.status_code
    return out


def failed(event: CallEvent) -> str | None:
    """Why an attempt counts as an error (its code names), None when it succeeded."""
    if event.grpc_code != "OK":
        return event.grpc_code
    if event.status_code and event.status_code != "SUCCESS":
        return event.status_code
    return None


class _Attempt:
    """One attempt's span, ended (and measured) with the attempt's event."""

    __slots__ = ("_owner", "_span", "_attributes", "metadata", "_started")

    def __init__(self, owner: OpenTelemetry, span: Span, attributes: Mapping[str, AttributeValue],
                 metadata: Sequence[tuple[str, str]]) -> None:
        self._owner = owner
        self._span = span
        self._attributes = attributes
        self.metadata = metadata
        self._started = time.perf_counter()

    def end(self, event: CallEvent) -> None:
        outcome = attempt_attributes(event)
        span = self._span
        span.set_attributes(outcome)
        reason = failed(event)
        if reason is not None:
            span.set_status(Status(StatusCode.ERROR, reason))
        span.end()
        measured = {**self._attributes, **outcome}
        del measured["clarifai.attempt"]  # one series per attempt number would only add cardinality
        self._owner.duration.record((time.perf_counter() - self._started) * 1000.0, measured)


class OpenTelemetry:
    """Spans and metrics for every attempt of every call, given to a client in ``observers``.

    ``tracer_provider`` and ``meter_provider`` default to the global ones; ``propagate=True``
    sends the trace context with each attempt through the global propagator (W3C
    ``traceparent`` unless configured otherwise).
    """

    def __init__(self, *, tracer_provider: trace.TracerProvider | None = None,
                 meter_provider: metrics.MeterProvider | None = None, propagate: bool = False) -> None:
        self.tracer = trace.get_tracer("clarifai_grpc_client", __version__, tracer_provider)
        meter = metrics.get_meter("clarifai_grpc_client", __version__, meter_provider)
        self.duration = meter.create_histogram(
            "rpc.client.duration", unit="ms", description="Duration of each attempt of each outbound call")
        self.propagate = propagate

    def begin_attempt(self, method: str, attempt: int, config: ChannelConfig) -> _Attempt:
        """Start the span of one attempt, as a child of the current span."""
        attributes = base_attributes(method, config.target)
        span = self.tracer.start_span(span_name(method), kind=SpanKind.CLIENT,
                                      attributes={**attributes, "clarifai.attempt": attempt})
        carrier: dict[str, str] = {}
        if self.propagate:
            propagation.inject(carrier, context=trace.set_span_in_context(span))
        metadata = tuple((key.lower(), value) for key, value in carrier.items())
        return _Attempt(self, span, attributes, metadata)

    def __repr__(self) -> str:
        return f"OpenTelemetry(propagate={self.propagate})"
