"""Proto3 JSON as the V2 REST API speaks it: snake_case names plus the API's two field options.

- ``cl_default_float``: the field is always written (so ``0.0`` is never mistaken for "absent",
  which a reader takes as the default, e.g. a ``Concept.value`` of 1.0), and a document that
  leaves it out is read as that default.
- ``cl_show_if_empty``: the field is written even when it holds its zero value.

Everything else is ``google.protobuf.json_format``. Unknown fields in documents are ignored, so
a newer server cannot break an older client.
"""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

from .proto.clarifai.api.utils import extensions_pb2

M = TypeVar("M", bound=Message)
_MESSAGE = descriptor.FieldDescriptor.TYPE_MESSAGE


def _mt(fd: descriptor.FieldDescriptor) -> descriptor.Descriptor:
    """The message type of a message field (typed as optional by the stubs)."""
    assert fd.message_type is not None
    return fd.message_type


def _et(fd: descriptor.FieldDescriptor) -> descriptor.EnumDescriptor:
    assert fd.enum_type is not None
    return fd.enum_type


class _Info:
    """Per message type: its optioned fields and the message fields that lead to more of them."""

    __slots__ = ("defaults", "show", "children")

    def __init__(self) -> None:
        self.defaults: list[tuple[descriptor.FieldDescriptor, float]] = []
        self.show: list[descriptor.FieldDescriptor] = []
        self.children: list[descriptor.FieldDescriptor] = []


def _own(desc: descriptor.Descriptor) -> _Info:
    info = _Info()
    for fd in desc.fields:
        opts = fd.GetOptions()
        if opts.HasExtension(extensions_pb2.cl_default_float):
            info.defaults.append((fd, opts.Extensions[extensions_pb2.cl_default_float]))
        elif opts.HasExtension(extensions_pb2.cl_show_if_empty) and opts.Extensions[extensions_pb2.cl_show_if_empty]:
            info.show.append(fd)
    return info


@functools.lru_cache(maxsize=None)
def _infos(root: descriptor.Descriptor) -> dict[str, _Info]:
    """Options for every message type reachable from ``root``, pruned to the relevant ones."""
    seen: dict[str, descriptor.Descriptor] = {}
    stack = [root]
    while stack:
        d = stack.pop()
        if d.full_name in seen:
            continue
        seen[d.full_name] = d
        stack.extend(_mt(fd) for fd in d.fields if fd.type == _MESSAGE)
    infos = {name: _own(d) for name, d in seen.items()}
    relevant = {name for name, i in infos.items() if i.defaults or i.show}
    changed = True
    while changed:  # a fixpoint, because message types refer to each other in cycles
        changed = False
        for name, d in seen.items():
            if name not in relevant and any(
                fd.type == _MESSAGE and _mt(fd).full_name in relevant for fd in d.fields
            ):
                relevant.add(name)
                changed = True
    for name, d in seen.items():
        infos[name].children = [fd for fd in d.fields if fd.type == _MESSAGE and _mt(fd).full_name in relevant]
    return {name: infos[name] for name in relevant}


def _children(fd: descriptor.FieldDescriptor, value: Any, node: Any) -> list[tuple[Message, Any]]:
    """Pairs of (sub-message, its JSON node) below one field, for maps, lists and singles."""
    if _mt(fd).GetOptions().map_entry:
        vfd = _mt(fd).fields_by_name["value"]
        if vfd.type != _MESSAGE or not isinstance(node, dict):
            return []
        return [(value[k], node[str(k)]) for k in value if str(k) in node]
    if fd.is_repeated:
        return list(zip(value, node)) if isinstance(node, list) else []
    return [(value, node)] if isinstance(node, dict) else []


def _zero(fd: descriptor.FieldDescriptor, msg: Message) -> Any:
    if fd.is_repeated:
        return {} if fd.type == _MESSAGE and _mt(fd).GetOptions().map_entry else []
    if fd.type == _MESSAGE:
        return {}
    if fd.enum_type is not None:
        return _et(fd).values_by_number[0].name if 0 in _et(fd).values_by_number else 0
    value = getattr(msg, fd.name)
    if isinstance(value, bytes):
        return ""
    if fd.type in (descriptor.FieldDescriptor.TYPE_INT64, descriptor.FieldDescriptor.TYPE_UINT64,
                   descriptor.FieldDescriptor.TYPE_SINT64, descriptor.FieldDescriptor.TYPE_FIXED64,
                   descriptor.FieldDescriptor.TYPE_SFIXED64):
        return "0"
    return value


def _decorate(msg: Message, node: dict[str, Any], infos: dict[str, _Info], show_if_empty: bool) -> None:
    info = infos.get(msg.DESCRIPTOR.full_name)
    if info is None:
        return
    for fd, _default in info.defaults:
        if fd.name not in node and not fd.is_repeated:
            node[fd.name] = getattr(msg, fd.name)
    if show_if_empty:
        for fd in info.show:
            if fd.name not in node and (fd.containing_oneof is None or msg.WhichOneof(fd.containing_oneof.name) is None):
                node[fd.name] = _zero(fd, msg)
    for fd in info.children:
        if fd.name in node:
            for sub, subnode in _children(fd, getattr(msg, fd.name), node[fd.name]):
                _decorate(sub, subnode, infos, show_if_empty)


def to_dict(msg: Message, *, show_if_empty: bool = False) -> dict[str, Any]:
    """``msg`` as a JSON-ready dict with snake_case names; default-float fields always present.

    ``show_if_empty`` also writes zero values of fields marked show-if-empty, as the
    service does in its responses.
    """
    node: dict[str, Any] = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    infos = _infos(msg.DESCRIPTOR)
    if infos:
        _decorate(msg, node, infos, show_if_empty)
    return node


def to_json(msg: Message, *, show_if_empty: bool = False) -> bytes:
    return json.dumps(to_dict(msg, show_if_empty=show_if_empty), separators=(",", ":")).encode()


def _fill_defaults(msg: Message, node: Any, infos: dict[str, _Info]) -> None:
    info = infos.get(msg.DESCRIPTOR.full_name)
    if info is None or not isinstance(node, dict):
        return
    for fd, default in info.defaults:
        if fd.name not in node and fd.json_name not in node and not fd.is_repeated:
            setattr(msg, fd.name, default)
    for fd in info.children:
        sub_node = node.get(fd.name, node.get(fd.json_name))
        if sub_node is not None:
            for sub, subnode in _children(fd, getattr(msg, fd.name), sub_node):
                _fill_defaults(sub, subnode, infos)


def parse_dict(node: Any, msg: M) -> M:
    """Fill ``msg`` from a decoded JSON document (snake_case or lowerCamelCase names).

    Raises ``json_format.ParseError`` for a document that does not fit the message.
    """
    if not isinstance(node, dict):
        raise json_format.ParseError(f"expected a JSON object for {msg.DESCRIPTOR.full_name}, got {type(node).__name__}")
    json_format.ParseDict(node, msg, ignore_unknown_fields=True)
    infos = _infos(msg.DESCRIPTOR)
    if infos:
        _fill_defaults(msg, node, infos)
    return msg


def parse_json(data: bytes | str, msg: M) -> M:
    """:func:`parse_dict` over raw JSON text; raises ``ValueError`` subclasses on bad input."""
    return parse_dict(json.loads(data), msg)
