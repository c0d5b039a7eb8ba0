"""HTTP/JSON transcoding from the ``google.api.http`` rules in the V2 descriptors: pure functions.

The client's JSON channel uses :func:`encode_request` (message -> verb, path, query, body) and the
emulator's gateway uses :class:`Router` (verb + path -> method, and query + body -> message), so
both ends follow the same rules:

- binding choice: the first binding (main rule, then ``additional_bindings`` in declared order)
  whose path variables are all set; ``user_app_id.user_id`` defaults to ``me`` when the app id
  is set;
- path variables may be nested (``user_app_id.app_id``) and are percent-encoded as one segment;
- ``body: "*"`` sends every field not bound in the path; without a body, the remaining fields go
  in the query string (dotted names, repeated keys, proto3 JSON scalar text, ``%20`` for spaces).
  Repeated message fields cannot be expressed there and raise :class:`TranscodingError`.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

from . import _json_format
from ._json_format import enum_type, message_type
from ._errors import TranscodingError
from ._protobuf_compat import is_repeated

_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")
_FD = descriptor.FieldDescriptor

_SCALAR_WKT = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
}
DEFAULT_USER_ID = "me"
# What grpc-gateway (Go's strconv.ParseBool) accepts for a bool query parameter.
_BOOL_TEXT = {t: True for t in ("1", "t", "T", "true", "TRUE", "True")} | {f: False for f in ("0", "f", "F", "false", "FALSE", "False")}
_TYPE_NAMES = {_FD.TYPE_BOOL: "bool", _FD.TYPE_FLOAT: "float", _FD.TYPE_DOUBLE: "double", _FD.TYPE_ENUM: "enum value",
               _FD.TYPE_BYTES: "base64 bytes", _FD.TYPE_STRING: "string"}
_USER_VAR, _APP_VAR = "user_app_id.user_id", "user_app_id.app_id"


@dataclass(frozen=True)
class PathTemplate:
    """A path such as ``/v2/users/{user_app_id.user_id}/inputs/{input_id}``; each variable is one segment."""

    template: str
    variables: tuple[str, ...]
    pattern: str
    literal_segments: int

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """Compiled on first match: only a server routes by path, and most rules are never matched."""
        return re.compile(self.pattern)

    @classmethod
    @functools.lru_cache(maxsize=None)
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/"):
            raise TranscodingError(f"path template {template!r} must start with '/'")
        variables = tuple(_VAR.findall(template))
        pattern, pos = "", 0
        for m in _VAR.finditer(template):
            pattern += re.escape(template[pos : m.start()]) + "([^/]+)"
            pos = m.end()
        pattern += re.escape(template[pos:])
        if "{" in _VAR.sub("", template) or "}" in _VAR.sub("", template):
            raise TranscodingError(f"path template {template!r} has a malformed variable")
        literal = sum(1 for seg in template.split("/") if seg and not _VAR.fullmatch(seg))
        return cls(template, variables, pattern + r"\Z", literal)

    def expand(self, values: Mapping[str, str]) -> str:
        """The path with each variable's value percent-encoded (``/`` included) as one segment."""
        missing = [v for v in self.variables if not values.get(v)]
        if missing:
            raise TranscodingError(f"path {self.template} needs a value for {', '.join(missing)}")
        return _VAR.sub(lambda m: quote(values[m.group(1)], safe="-_.~"), self.template)

    def match(self, path: str) -> dict[str, str] | None:
        """The variables' decoded values when ``path`` fits this template, else None."""
        m = self.regex.match(path)
        if m is None:
            return None
        return {name: unquote(value) for name, value in zip(self.variables, m.groups())}


@dataclass(frozen=True)
class Binding:
    verb: str
    path: PathTemplate
    body: str


@dataclass(frozen=True)
class MethodRule:
    """One RPC's HTTP bindings, in the order they are tried."""

    name: str  # "/clarifai.api.V2/PostInputs"
    method: descriptor.MethodDescriptor
    bindings: tuple[Binding, ...]

    @property
    def input_type(self) -> descriptor.Descriptor:
        return self.method.input_type

    @property
    def output_type(self) -> descriptor.Descriptor:
        return self.method.output_type


def _binding(rule: http_pb2.HttpRule) -> Binding | None:
    kind = rule.WhichOneof("pattern")
    if kind is None or kind == "custom":
        return None
    return Binding(kind.upper(), PathTemplate.parse(getattr(rule, kind)), rule.body)


def method_rule(method: descriptor.MethodDescriptor) -> MethodRule:
    """The bindings of one method, from its ``google.api.http`` option."""
    opts = method.GetOptions()
    if not opts.HasExtension(annotations_pb2.http):
        raise TranscodingError(f"{method.full_name} has no google.api.http rule and cannot be called over JSON")
    http = opts.Extensions[annotations_pb2.http]
    found = [_binding(http)] + [_binding(b) for b in http.additional_bindings]
    return MethodRule(f"/{method.containing_service.full_name}/{method.name}", method, tuple(b for b in found if b))


@functools.lru_cache(maxsize=None)
def service_rules(service: descriptor.ServiceDescriptor) -> dict[str, MethodRule]:
    """Every method of ``service`` that has HTTP bindings, keyed by its gRPC path."""
    rules = {}
    for m in service.methods:
        if m.GetOptions().HasExtension(annotations_pb2.http):
            rule = method_rule(m)
            rules[rule.name] = rule
    return rules


# --- request side (client) -------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    verb: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None

    def url_path(self) -> str:
        """Path plus the encoded query string."""
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{quote(k, safe='._-~')}={quote(v, safe='-_.~')}" for k, v in self.query)


def _get_path(msg: Message, dotted: str) -> Any:
    value: Any = msg
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _path_values(msg: Message, binding: Binding) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for var in binding.path.variables:
        try:
            raw = _get_path(msg, var)
        except AttributeError:
            raise TranscodingError(f"path variable {var!r} names no field of {msg.DESCRIPTOR.full_name}") from None
        text = raw if isinstance(raw, str) else (json.dumps(raw) if isinstance(raw, (int, float)) and raw else "")
        if not text and var == _USER_VAR and _get_path(msg, _APP_VAR):
            text = DEFAULT_USER_ID
        if not text:
            return None
        values[var] = text
    return values


def choose_binding(rule: MethodRule, msg: Message) -> tuple[Binding, dict[str, str]]:
    """The first binding whose path variables the request fills, with their values."""
    for binding in rule.bindings:
        values = _path_values(msg, binding)
        if values is not None:
            return binding, values
    needed = sorted({v for b in rule.bindings for v in b.path.variables})
    raise TranscodingError(
        f"{rule.method.name}: the request fills none of its HTTP routes; set the fields of one of them "
        f"({', '.join(b.path.template for b in rule.bindings)}); path fields: {', '.join(needed)}"
    )


def _drop(node: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    chain = [node]
    for p in parts[:-1]:
        nxt = chain[-1].get(p)
        if not isinstance(nxt, dict):
            return
        chain.append(nxt)
    chain[-1].pop(parts[-1], None)
    for parent, p in zip(reversed(chain[:-1]), reversed(parts[:-1])):
        if parent.get(p) == {}:
            del parent[p]


def _scalar_text(fd: descriptor.FieldDescriptor, value: Any) -> str:
    if fd.type == _FD.TYPE_ENUM:
        ev = enum_type(fd).values_by_number.get(value)
        return ev.name if ev is not None else str(value)
    if fd.type == _FD.TYPE_BOOL:
        return "true" if value else "false"
    if fd.type == _FD.TYPE_BYTES:
        return base64.b64encode(value).decode()
    if fd.type in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
        return json.dumps(value) if value == value and value not in (float("inf"), float("-inf")) else (
            "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity"))
    return str(value)


def query_params(msg: Message, exclude: Iterable[str] = (), prefix: str = "") -> list[tuple[str, str]]:
    """The set fields of ``msg`` as query parameters (dotted names, repeated keys)."""
    excluded = set(exclude)
    out: list[tuple[str, str]] = []
    for fd, value in msg.ListFields():
        name = prefix + fd.name
        if name in excluded:
            continue
        if fd.type == _FD.TYPE_MESSAGE:
            if message_type(fd).GetOptions().map_entry or is_repeated(fd):
                raise TranscodingError(
                    f"{msg.DESCRIPTOR.full_name}.{fd.name} is a repeated message or map field and cannot be sent "
                    "as a query parameter of a request without a body"
                )
            if message_type(fd).full_name in _SCALAR_WKT:
                out.append((name, str(json_format.MessageToDict(value))))
            elif message_type(fd).full_name.startswith("google.protobuf."):
                raise TranscodingError(
                    f"{msg.DESCRIPTOR.full_name}.{fd.name} ({message_type(fd).full_name}) cannot be sent as a query parameter"
                )
            else:
                out += query_params(value, excluded, name + ".")
        elif is_repeated(fd):
            out += [(name, _scalar_text(fd, v)) for v in value]
        else:
            out.append((name, _scalar_text(fd, value)))
    return out


def encode_request(rule: MethodRule, msg: Message) -> HttpRequest:
    """The HTTP call for ``msg`` under ``rule``: verb, encoded path, query and JSON body."""
    binding, values = choose_binding(rule, msg)
    path = binding.path.expand(values)
    bound = set(binding.path.variables)
    if binding.body == "*":
        body = _json_format.to_dict(msg)
        for var in bound:
            _drop(body, var)
        return HttpRequest(binding.verb, path, (), body)
    if binding.body:
        sub = getattr(msg, binding.body)
        query = query_params(msg, bound | {binding.body})
        return HttpRequest(binding.verb, path, tuple(query), _json_format.to_dict(sub))
    return HttpRequest(binding.verb, path, tuple(query_params(msg, bound)), None)


# --- server side (gateway) -------------------------------------------------------------


def _set_scalar(msg: Message, fd: descriptor.FieldDescriptor, text: str, append: bool) -> None:
    try:
        if fd.type == _FD.TYPE_ENUM:
            ev = enum_type(fd).values_by_name.get(text)
            value: Any = ev.number if ev is not None else int(text)
        elif fd.type == _FD.TYPE_BOOL:
            if text not in _BOOL_TEXT:
                raise ValueError(text)
            value = _BOOL_TEXT[text]
        elif fd.type == _FD.TYPE_BYTES:
            value = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
        elif fd.type in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
            value = float(text)
        elif fd.type == _FD.TYPE_STRING:
            value = text
        else:
            value = int(text)
        if append:
            getattr(msg, fd.name).append(value)
        else:
            setattr(msg, fd.name, value)
    except (ValueError, TypeError, OverflowError):
        raise TranscodingError(f"{fd.name}={text!r} is not a valid {_TYPE_NAMES.get(fd.type, 'value')}") from None


def set_field(msg: Message, dotted: str, text: str) -> None:
    """Set the field at ``dotted`` from proto3 JSON scalar text (repeated fields are appended to)."""
    target, parts = msg, dotted.split(".")
    for i, part in enumerate(parts):
        fd: Any = target.DESCRIPTOR.fields_by_name.get(part)
        if fd is None:
            fd = {f.json_name: f for f in target.DESCRIPTOR.fields}.get(part)
        if fd is None:
            raise TranscodingError(f"unknown parameter {dotted!r} for {msg.DESCRIPTOR.full_name}")
        last = i == len(parts) - 1
        if fd.type == _FD.TYPE_MESSAGE:
            if is_repeated(fd):
                raise TranscodingError(f"parameter {dotted!r} names a repeated message field")
            if message_type(fd).full_name in _SCALAR_WKT and last:
                try:
                    json_format.Parse(json.dumps(text), getattr(target, fd.name))
                except json_format.ParseError as exc:
                    raise TranscodingError(f"{dotted}={text!r}: {exc}") from None
                return
            if last:
                raise TranscodingError(f"parameter {dotted!r} names a message, not a value")
            target = getattr(target, fd.name)
            continue
        if not last:
            raise TranscodingError(f"parameter {dotted!r}: {part} is not a message")
        _set_scalar(target, fd, text, append=is_repeated(fd))


@dataclass(frozen=True)
class RouteMatch:
    rule: MethodRule
    binding: Binding
    path_params: dict[str, str]

    def decode(self, query: Sequence[tuple[str, str]], body: bytes | None, message: Message) -> Message:
        """Fill ``message`` (an empty request) from the body, query string and path, in that order."""
        if self.binding.body and body and body.strip():
            try:
                node = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise TranscodingError(f"request body is not valid JSON: {exc}") from None
            target = message if self.binding.body == "*" else getattr(message, self.binding.body)
            try:
                _json_format.parse_dict(node, target)
            except json_format.ParseError as exc:
                raise TranscodingError(f"request body does not fit {target.DESCRIPTOR.full_name}: {exc}") from None
        for key, value in query:
            set_field(message, key, value)
        for key, value in self.path_params.items():
            set_field(message, key, value)
        return message


class Router:
    """Finds the method and binding for an incoming HTTP verb and path."""

    def __init__(self, rules: Iterable[MethodRule]) -> None:
        self._routes: dict[tuple[str, int], list[tuple[Binding, MethodRule]]] = {}
        for rule in rules:
            for b in rule.bindings:
                key = (b.verb, b.path.template.count("/"))
                self._routes.setdefault(key, []).append((b, rule))
        for routes in self._routes.values():
            # literal segments beat variables: /inputs/stream before /inputs/{input_id}
            routes.sort(key=lambda br: -br[0].path.literal_segments)

    @classmethod
    def for_service(cls, service: descriptor.ServiceDescriptor) -> Router:
        return cls(service_rules(service).values())

    def match(self, verb: str, path: str) -> RouteMatch | None:
        for binding, rule in self._routes.get((verb.upper(), path.count("/")), ()):
            params = binding.path.match(path)
            if params is not None:
                return RouteMatch(rule, binding, params)
        return None

    def allowed_verbs(self, path: str) -> list[str]:
        """Verbs that would match ``path`` (for a 405 answer)."""
        return sorted({verb for (verb, n), routes in self._routes.items() if n == path.count("/")
                       for b, _ in routes if b.path.match(path) is not None})
