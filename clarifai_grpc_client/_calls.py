"""What a call is before any I/O: its method (path, message types, call shape), and the
inference routing and options the client fills into requests.

:class:`Method` is built once per RPC from the V2 descriptors (:func:`v2_method`), or by hand
for a method that is not in them; transports and the policy read everything they need from it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Literal, TypeVar

from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message

from ._errors import ConfigurationError, RequestTypeError

if TYPE_CHECKING:
    from ._transcoding import MethodRule

Q = TypeVar("Q", bound=Message)
R = TypeVar("R", bound=Message)
Metadata = Sequence[tuple[str, "str | bytes"]]
Shape = Literal["unary_unary", "unary_stream", "stream_unary", "stream_stream"]


@dataclass(frozen=True, eq=False)
class Method(Generic[Q, R]):
    """One RPC: its gRPC path, request and response classes, call shape and HTTP bindings."""

    path: str
    request_type: type[Q]
    response_type: type[R]
    shape: Shape = "unary_unary"
    http_rule: MethodRule | None = None
    serializer: Callable[[Any], bytes] | None = None
    deserializer: Callable[[bytes], Any] | None = None
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.path.rsplit("/", 1)[-1])
        if self.serializer is None:
            object.__setattr__(self, "serializer", self.request_type.SerializeToString)
        if self.deserializer is None:
            object.__setattr__(self, "deserializer", self.response_type.FromString)

    @property
    def client_streaming(self) -> bool:
        return self.shape.startswith("stream_")

    @property
    def server_streaming(self) -> bool:
        return self.shape.endswith("_stream")

    def check(self, request: object) -> None:
        """Raise RequestTypeError unless ``request`` is this method's request message."""
        if type(request) is not self.request_type and self.request_type is not Message and not isinstance(
                request, self.request_type):
            raise RequestTypeError(self.name, self.request_type.DESCRIPTOR.full_name, request)


def _shape(m: descriptor.MethodDescriptor) -> Shape:
    client = bool(getattr(m, "client_streaming", False))
    server = bool(getattr(m, "server_streaming", False))
    return f"{'stream' if client else 'unary'}_{'stream' if server else 'unary'}"  # type: ignore[return-value]


class _DescribedMethod(Method[Any, Any]):
    """A Method read from its descriptor. Its HTTP bindings are read on first use: gRPC calls never
    need them, and reading them loads the transcoder, a large share of the time to a first client."""

    def __init__(self, m: descriptor.MethodDescriptor) -> None:
        super().__init__(f"/{m.containing_service.full_name}/{m.name}", message_factory.GetMessageClass(m.input_type),
                         message_factory.GetMessageClass(m.output_type), _shape(m))
        object.__delattr__(self, "http_rule")  # the field's value would hide the property below
        object.__setattr__(self, "descriptor", m)

    @functools.cached_property
    def http_rule(self) -> MethodRule | None:
        from google.api import annotations_pb2

        from ._transcoding import method_rule

        m: descriptor.MethodDescriptor = self.descriptor  # type: ignore[attr-defined]
        return method_rule(m) if m.GetOptions().HasExtension(annotations_pb2.http) else None


def method_from_descriptor(m: descriptor.MethodDescriptor) -> Method[Any, Any]:
    """The Method for a descriptor (HTTP bindings included when it has a ``google.api.http`` rule)."""
    return _DescribedMethod(m)


@functools.lru_cache(maxsize=1)
def v2_methods() -> dict[str, Method[Any, Any]]:
    """Every V2 RPC, by name and by gRPC path."""
    from .proto.clarifai.api import service_pb2

    table: dict[str, Method[Any, Any]] = {}
    for m in service_pb2.DESCRIPTOR.services_by_name["V2"].methods:
        method = method_from_descriptor(m)
        table[method.name] = table[method.path] = method
    return table


def v2_method(name: str) -> Method[Any, Any]:
    """The V2 Method called ``name`` (or with gRPC path ``name``); ConfigurationError if none."""
    method = v2_methods().get(name)
    if method is None:
        raise ConfigurationError(f"{name!r} is not a V2 RPC")
    return method


def check_timeout(value: float | None, what: str = "timeout") -> float | None:
    """``value`` as a float, or None; a ConfigurationError for zero, negative or non-finite values."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{what} must be a number of seconds or None, got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ConfigurationError(f"{what} must be a positive, finite number of seconds or None, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Routing:
    """Where inference runs and how, filled into requests that have the fields and leave them unset.

    A ``deployment_id`` and a ``compute_cluster_id`` + ``nodepool_id`` pair exclude each other;
    ``runner_user_id`` owns the deployment or cluster (the client's ``user_id`` when empty).
    ``use_predict_cache=True`` sets the request flag of the same name (a request's own True stays).
    """

    deployment_id: str = ""
    compute_cluster_id: str = ""
    nodepool_id: str = ""
    runner_user_id: str = ""
    use_predict_cache: bool | None = None

    def __post_init__(self) -> None:
        for name in ("deployment_id", "compute_cluster_id", "nodepool_id", "runner_user_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or value != value.strip() or any(c in value for c in "/?#"):
                raise ConfigurationError(f"{name} must be a plain id, got {value!r}")
        if self.deployment_id and (self.compute_cluster_id or self.nodepool_id):
            raise ConfigurationError("pass either deployment_id or compute_cluster_id + nodepool_id, not both")
        if bool(self.compute_cluster_id) != bool(self.nodepool_id):
            raise ConfigurationError("compute_cluster_id and nodepool_id go together: pass both or neither")
        if self.use_predict_cache is not None and not isinstance(self.use_predict_cache, bool):
            raise ConfigurationError(f"use_predict_cache must be True, False or None, got {self.use_predict_cache!r}")

    @property
    def empty(self) -> bool:
        return not (self.deployment_id or self.nodepool_id) and self.use_predict_cache is None

    def replace(self, **changes: Any) -> Routing:
        """A copy with some fields changed; setting one routing form clears the other."""
        values = {f: getattr(self, f) for f in ("deployment_id", "compute_cluster_id", "nodepool_id",
                                                 "runner_user_id", "use_predict_cache")}
        if changes.get("deployment_id"):
            values.update(compute_cluster_id="", nodepool_id="")
        if changes.get("compute_cluster_id") or changes.get("nodepool_id"):
            values.update(deployment_id="")
        values.update(changes)
        return Routing(**values)

    def apply(self, request: Message, user_id: str) -> Message:
        """``request``, or a copy with the routing fields it lacks filled in."""
        fields = request.DESCRIPTOR.fields_by_name
        wants_runner = "runner_selector" in fields and (self.deployment_id or self.nodepool_id)
        wants_cache = bool(self.use_predict_cache) and "use_predict_cache" in fields and not getattr(
            request, "use_predict_cache")
        if not (wants_runner or wants_cache):
            return request
        if wants_runner and request.HasField("runner_selector"):
            wants_runner = False
        if not (wants_runner or wants_cache):
            return request
        out = type(request)()
        out.CopyFrom(request)
        owner = self.runner_user_id or user_id
        if wants_runner:
            selector: Any = out.runner_selector  # type: ignore[attr-defined]
            if self.deployment_id:
                selector.deployment.id = self.deployment_id
                if owner:
                    selector.deployment.user_id = owner
            else:
                selector.nodepool.id = self.nodepool_id
                selector.nodepool.compute_cluster.id = self.compute_cluster_id
                if owner:
                    selector.nodepool.compute_cluster.user_id = owner
        if wants_cache:
            out.use_predict_cache = True  # type: ignore[attr-defined]
        return out
