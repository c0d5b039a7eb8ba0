"""Proto3 JSON as the V2 REST API speaks it: snake_case names plus the API's two field options.

- ``cl_default_float``: the field is always written (so ``0.0`` is never mistaken for "absent",
  which a reader takes as the default, e.g. a ``Concept.value`` of 1.0), and a document that
  leaves it out is read as that default.
- ``cl_show_if_empty``: the field is written even when it holds its zero value.

Everything else is ``google.protobuf.json_format``. Unknown fields in documents are ignored, so
a newer server cannot break an older client; ``strict=True`` (the emulator's gateway reading
requests, as the service does) refuses unknown fields and enum names instead, naming them.
A document nested too deeply for the reader (thousands of levels) raises the same errors as
any other bad document (:class:`JsonDepthError`, ``json_format.ParseError``), never
``RecursionError``.
"""

from __future__ import annotations

import base64
import datetime
import functools
import importlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

from . import _pool
from ._protobuf_compat import is_repeated
from .proto.clarifai.api.utils import extensions_pb2

M = TypeVar("M", bound=Message)
_FD = descriptor.FieldDescriptor
_MESSAGE = descriptor.FieldDescriptor.TYPE_MESSAGE


def message_type(fd: descriptor.FieldDescriptor) -> descriptor.Descriptor:
    """The message type of a message field (typed as optional by the stubs)."""
    assert fd.message_type is not None
    return fd.message_type


def enum_type(fd: descriptor.FieldDescriptor) -> descriptor.EnumDescriptor:
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
        opts = _pool.options(fd)
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
        stack.extend(message_type(fd) for fd in d.fields if fd.type == _MESSAGE)
    infos = {name: _own(d) for name, d in seen.items()}
    relevant = {name for name, i in infos.items() if i.defaults or i.show}
    changed = True
    while changed:  # a fixpoint, because message types refer to each other in cycles
        changed = False
        for name, d in seen.items():
            if name not in relevant and any(
                fd.type == _MESSAGE and message_type(fd).full_name in relevant for fd in d.fields
            ):
                relevant.add(name)
                changed = True
    for name, d in seen.items():
        infos[name].children = [fd for fd in d.fields if fd.type == _MESSAGE and message_type(fd).full_name in relevant]
    return {name: infos[name] for name in relevant}


def _children(fd: descriptor.FieldDescriptor, value: Any, node: Any) -> list[tuple[Message, Any]]:
    """Pairs of (sub-message, its JSON node) below one field, for maps, lists and singles."""
    if message_type(fd).GetOptions().map_entry:
        vfd = message_type(fd).fields_by_name["value"]
        if vfd.type != _MESSAGE or not isinstance(node, dict):
            return []
        return [(value[k], node[str(k)]) for k in value if str(k) in node]
    if is_repeated(fd):
        return list(zip(value, node)) if isinstance(node, list) else []
    return [(value, node)] if isinstance(node, dict) else []


def _zero(fd: descriptor.FieldDescriptor, msg: Message, integer_enums: bool) -> Any:
    if is_repeated(fd):
        return {} if fd.type == _MESSAGE and message_type(fd).GetOptions().map_entry else []
    if fd.type == _MESSAGE:
        return {}
    if fd.enum_type is not None:
        return enum_type(fd).values_by_number[0].name if 0 in enum_type(fd).values_by_number and not integer_enums else 0
    value = getattr(msg, fd.name)
    if isinstance(value, bytes):
        return ""
    if fd.type in (descriptor.FieldDescriptor.TYPE_INT64, descriptor.FieldDescriptor.TYPE_UINT64,
                   descriptor.FieldDescriptor.TYPE_SINT64, descriptor.FieldDescriptor.TYPE_FIXED64,
                   descriptor.FieldDescriptor.TYPE_SFIXED64):
        return "0"
    return value


def _decorate(msg: Message, node: dict[str, Any], infos: dict[str, _Info], show_if_empty: bool, integer_enums: bool) -> None:
    info = infos.get(msg.DESCRIPTOR.full_name)
    if info is None:
        return
    for fd, _default in info.defaults:
        if fd.name not in node and not is_repeated(fd):
            node[fd.name] = getattr(msg, fd.name)
    if show_if_empty:
        for fd in info.show:
            if fd.name not in node and (fd.containing_oneof is None or msg.WhichOneof(fd.containing_oneof.name) is None):
                node[fd.name] = _zero(fd, msg, integer_enums)
    for fd in info.children:
        if fd.name in node:
            for sub, subnode in _children(fd, getattr(msg, fd.name), node[fd.name]):
                _decorate(sub, subnode, infos, show_if_empty, integer_enums)


def to_dict(msg: Message, *, show_if_empty: bool = False, integer_enums: bool = False) -> dict[str, Any]:
    """``msg`` as a JSON-ready dict with snake_case names; default-float fields always present.

    ``show_if_empty`` also writes zero values of fields marked show-if-empty, and
    ``integer_enums`` writes enums as numbers (``"code": 10000``), as the service does in its
    responses.
    """
    node: dict[str, Any] = json_format.MessageToDict(
        msg, preserving_proto_field_name=True, use_integers_for_enums=integer_enums
    )
    infos = _infos(msg.DESCRIPTOR)
    if infos:
        _decorate(msg, node, infos, show_if_empty, integer_enums)
    return node


def to_json(msg: Message, *, show_if_empty: bool = False, integer_enums: bool = False) -> bytes:
    node = to_dict(msg, show_if_empty=show_if_empty, integer_enums=integer_enums)
    return dumps(node)


@functools.lru_cache(maxsize=1)
def _orjson() -> Any:
    """``orjson`` when it is installed (the ``speed`` extra), else None; looked up on first use."""
    try:
        return importlib.import_module("orjson")  # by name: type checking does not need it installed
    except ImportError:
        return None


def dumps(node: Any) -> bytes:
    """Compact JSON text of a document made by :func:`to_dict` or the transcoder: ``orjson`` when
    installed (it writes a 100 KiB base64 string about 50 times faster), else ``json``. Either way
    the same document: what ``orjson`` declines (an integer over 64 bits, a non-string key) is
    written by ``json``, and those documents hold no NaN or infinite floats (proto3 JSON writes
    them as strings), which the two would write differently."""
    fast = _orjson()
    if fast is not None:
        try:
            return fast.dumps(node)  # type: ignore[no-any-return]
        except (TypeError, ValueError):
            pass
    return json.dumps(node, separators=(",", ":")).encode()


# --- reading ---------------------------------------------------------------------------
#
# json_format.ParseDict is generic and slow (it rescans the descriptor for every key). Reading
# is on every response's path, so each message type gets a table of per-field setters built
# once. Anything unusual (wrong types, oneof clashes, "NaN" strings...) makes the fast path give
# up, and the whole document is read again by ParseDict, which also words the error.


class _Fallback(Exception):
    pass


class JsonDepthError(ValueError):
    """A JSON document nested more deeply than the reader can follow."""


def loads(data: bytes | str) -> Any:
    """``json.loads``, with a document too deeply nested to read raising :class:`JsonDepthError`."""
    try:  # not orjson: it reads an integer over 64 bits as a float, silently
        return json.loads(data)
    except RecursionError:
        raise JsonDepthError(f"the JSON document is nested too deeply to read ({len(data)} bytes)") from None


Setter = Callable[[Message, Any], None]
_B64 = bytes.maketrans(b"-_", b"+/")
_INT64 = {_FD.TYPE_INT64, _FD.TYPE_UINT64, _FD.TYPE_SINT64, _FD.TYPE_FIXED64, _FD.TYPE_SFIXED64}
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)\Z")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _Fallback
    raw = value.encode()
    return base64.b64decode(raw.translate(_B64) + b"=" * (-len(raw) % 4), validate=True)


_EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()


def _utc_timestamp(text: str) -> tuple[int, int] | None:
    """Seconds and nanos of the form the service writes (``2024-05-01T12:34:56.789Z``), by slicing:
    about a third of the regex route's cost. None for any other form."""
    n = len(text)
    if not (20 <= n <= 30 and text[-1] == "Z" and text[10] == "T" and text.isascii()):
        return None
    digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    if not (digits.isdigit() and text[4] == text[7] == "-" and text[13] == text[16] == ":"):
        return None
    if n == 20:
        nanos = 0
    else:
        frac = text[20:-1]
        if text[19] != "." or not frac.isdigit():
            return None
        nanos = int(frac.ljust(9, "0"))
    try:
        day = datetime.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8])).toordinal() - _EPOCH_DAY
    except ValueError:
        return None
    hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
    if hour > 23 or minute > 59 or second > 59:
        return None
    return day * 86400 + hour * 3600 + minute * 60 + second, nanos


def _set_timestamp(ts: Any, text: Any) -> None:
    fast = _utc_timestamp(text) if type(text) is str else None
    if fast is not None:
        ts.seconds, ts.nanos = fast
        return
    m = _TIME.match(text) if isinstance(text, str) else None
    if m is None:
        ts.FromJsonString(text)
        return
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    when = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), tzinfo=datetime.timezone.utc)
    seconds = (when - _EPOCH) // datetime.timedelta(seconds=1)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    ts.seconds = seconds
    ts.nanos = int((frac or "0").ljust(9, "0"))


def _set_value(target: Any, v: Any) -> None:
    """``google.protobuf.Value`` from a decoded JSON value, as ``Struct.update`` sets it, with one
    type lookup instead of a chain of ``isinstance`` checks (about 0.7 of its time)."""
    t = type(v)
    if t is str:
        target.string_value = v
    elif t is float or t is int:
        target.number_value = v
    elif t is bool:
        target.bool_value = v
    elif v is None:
        target.null_value = 0
    elif t is dict:
        struct = target.struct_value
        struct.SetInParent()
        _set_fields(struct.fields, v)
    elif t is list:
        values = target.list_value
        values.SetInParent()
        add = values.values.add
        for item in v:
            _set_value(add(), item)
    else:
        raise _Fallback


def _set_fields(fields: Any, node: dict[str, Any]) -> None:
    for key, v in node.items():
        _set_value(fields[key], v)


def _scalar(fd: descriptor.FieldDescriptor, strict: bool) -> Callable[[Any], Any] | None:
    """A converter from a JSON value to the field's Python value (None: use it as it is)."""
    if fd.type == _FD.TYPE_ENUM:
        numbers = {v.name: v.number for v in enum_type(fd).values}
        if strict:  # an unknown name raises KeyError: the reference parser then words the error
            return lambda v: numbers[v] if isinstance(v, str) else v
        return lambda v: numbers.get(v) if isinstance(v, str) else v
    if fd.type in _INT64:
        return lambda v: int(v) if isinstance(v, str) else v
    if fd.type == _FD.TYPE_BYTES:
        return _bytes
    return None


Fill = Callable[[Message, Any], None]


def _message_setter(name: str, mt: descriptor.Descriptor, repeated: bool, fill: Fill, strict: bool) -> Setter:
    full = mt.full_name
    if full == "google.protobuf.Timestamp" and not repeated:
        def set_time(msg: Message, v: Any) -> None:
            if v is not None:
                _set_timestamp(getattr(msg, name), v)
        return set_time
    if full == "google.protobuf.Struct" and not repeated:
        def set_struct(msg: Message, v: Any) -> None:
            if v is not None:
                if type(v) is not dict:
                    raise _Fallback
                sub = getattr(msg, name)
                sub.SetInParent()
                _set_fields(sub.fields, v)
        return set_struct
    if full.startswith("google.protobuf."):
        def set_wkt(msg: Message, v: Any) -> None:
            if repeated:
                if type(v) is not list:
                    raise _Fallback
                rep = getattr(msg, name)
                for item in v:
                    json_format.ParseDict(item, rep.add(), ignore_unknown_fields=not strict)
            elif v is not None or full == "google.protobuf.Value":
                json_format.ParseDict(v, getattr(msg, name), ignore_unknown_fields=not strict)
        return set_wkt
    if repeated:
        def set_messages(msg: Message, v: Any) -> None:
            if v is None:
                return
            if type(v) is not list:
                raise _Fallback
            rep = getattr(msg, name)
            for item in v:
                fill(rep.add(), item)
        return set_messages

    def set_message(msg: Message, v: Any) -> None:
        if v is not None:
            sub = getattr(msg, name)
            sub.SetInParent()
            fill(sub, v)
    return set_message


def _map_setter(fd: descriptor.FieldDescriptor, fill: Fill, strict: bool) -> Setter:
    name = fd.name
    kfd, vfd = message_type(fd).fields_by_name["key"], message_type(fd).fields_by_name["value"]
    key_of: Callable[[str], Any] = {
        _FD.TYPE_BOOL: lambda k: {"true": True, "false": False}[k],
        _FD.TYPE_STRING: lambda k: k,
    }.get(kfd.type, int)
    if vfd.type == _FD.TYPE_MESSAGE:
        def set_message_map(msg: Message, v: Any) -> None:
            if v is None:
                return
            if type(v) is not dict:
                raise _Fallback
            target = getattr(msg, name)
            for k, item in v.items():
                if message_type(vfd).full_name.startswith("google.protobuf."):
                    json_format.ParseDict(item, target[key_of(k)], ignore_unknown_fields=not strict)
                else:
                    fill(target[key_of(k)], item)
        return set_message_map
    conv = _scalar(vfd, strict)

    def set_scalar_map(msg: Message, v: Any) -> None:
        if v is None:
            return
        if type(v) is not dict:
            raise _Fallback
        target = getattr(msg, name)
        for k, item in v.items():
            value = item if conv is None else conv(item)
            if value is not None:
                target[key_of(k)] = value
    return set_scalar_map


def _setter(fd: descriptor.FieldDescriptor, fill: Fill, strict: bool) -> Setter:
    name = fd.name
    if fd.type == _MESSAGE:
        if message_type(fd).GetOptions().map_entry:
            return _map_setter(fd, fill, strict)
        return _message_setter(name, message_type(fd), is_repeated(fd), fill, strict)
    conv = _scalar(fd, strict)
    if is_repeated(fd):
        def set_repeated(msg: Message, v: Any) -> None:
            if v is None:
                return
            if type(v) is not list:
                raise _Fallback
            values = v if conv is None else [conv(x) for x in v]
            getattr(msg, name).extend(x for x in values if x is not None)
        return set_repeated
    if conv is None:
        def set_plain(msg: Message, v: Any) -> None:
            if v is not None:
                setattr(msg, name, v)
        return set_plain

    def set_converted(msg: Message, v: Any) -> None:
        if v is not None:
            value = conv(v)
            if value is not None:
                setattr(msg, name, value)
    return set_converted


class _Reader:
    __slots__ = ("setters", "defaults")

    def __init__(self, desc: descriptor.Descriptor, fill: Fill, strict: bool) -> None:
        self.setters: dict[str, Setter] = {}
        self.defaults: list[tuple[str, str, float]] = []
        for fd in desc.fields:
            setter = _setter(fd, fill, strict)
            self.setters[fd.name] = setter
            self.setters[fd.json_name] = setter
            opts = _pool.options(fd)
            if not is_repeated(fd) and opts.HasExtension(extensions_pb2.cl_default_float):
                self.defaults.append((fd.name, fd.json_name, opts.Extensions[extensions_pb2.cl_default_float]))


def _make_fill(strict: bool) -> Fill:
    """The fast-path filler; a strict one gives up (to the reference parser) on unknown names."""
    readers: dict[str, _Reader] = {}

    def fill(msg: Message, node: Any) -> None:
        if type(node) is not dict:
            raise _Fallback
        desc = msg.DESCRIPTOR
        reader = readers.get(desc.full_name)
        if reader is None:
            reader = readers[desc.full_name] = _Reader(desc, fill, strict)  # type: ignore[arg-type]
        setters = reader.setters
        for key, value in node.items():
            setter = setters.get(key)
            if setter is not None:
                setter(msg, value)
            elif strict:
                raise _Fallback
        for name, json_name, default in reader.defaults:
            if name not in node and json_name not in node:
                setattr(msg, name, default)

    return fill


_fill = _make_fill(strict=False)
_fill_strict = _make_fill(strict=True)


def _fill_defaults(msg: Message, node: Any, infos: dict[str, _Info]) -> None:
    info = infos.get(msg.DESCRIPTOR.full_name)
    if info is None or not isinstance(node, dict):
        return
    for fd, default in info.defaults:
        if fd.name not in node and fd.json_name not in node and not is_repeated(fd):
            setattr(msg, fd.name, default)
    for fd in info.children:
        sub_node = node.get(fd.name, node.get(fd.json_name))
        if sub_node is not None:
            for sub, subnode in _children(fd, getattr(msg, fd.name), sub_node):
                _fill_defaults(sub, subnode, infos)


def parse_dict(node: Any, msg: M, *, strict: bool = False) -> M:
    """Fill ``msg`` from a decoded JSON document (snake_case or lowerCamelCase names).

    Unknown fields are ignored, unless ``strict``: then unknown fields and enum names raise,
    naming them. A missing default-float field reads as its default. Raises
    ``json_format.ParseError`` for a document that does not fit the message (too deep included).
    """
    if not isinstance(node, dict):
        raise json_format.ParseError(f"expected a JSON object for {msg.DESCRIPTOR.full_name}, got {type(node).__name__}")
    try:
        try:
            (_fill_strict if strict else _fill)(msg, node)
        except Exception:  # the fast path declines anything unusual; the reference parser decides
            msg.Clear()
            try:
                json_format.ParseDict(node, msg, ignore_unknown_fields=not strict)
            except json_format.ParseError as exc:  # its list of every available field says nothing useful
                raise json_format.ParseError(str(exc).split("\n", 1)[0].rstrip(".") + ".") from None
            infos = _infos(msg.DESCRIPTOR)
            if infos:
                _fill_defaults(msg, node, infos)
    except RecursionError:
        msg.Clear()
        raise json_format.ParseError(f"the document is nested too deeply for {msg.DESCRIPTOR.full_name}") from None
    return msg


def parse_json(data: bytes | str, msg: M, *, strict: bool = False) -> M:
    """:func:`parse_dict` over raw JSON text; raises ``ValueError`` subclasses on bad input."""
    return parse_dict(loads(data), msg, strict=strict)
