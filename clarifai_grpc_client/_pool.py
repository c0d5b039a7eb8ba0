"""The descriptor pool that holds this package's ``clarifai.api`` types.

protobuf keeps one process-wide default pool, and it refuses a second definition of a full name.
The published ``clarifai-grpc`` package defines the same ``clarifai.api.*`` names (from files of
other names), so the two cannot both register there. The generated modules therefore add their
files through :func:`add_serialized_file`, which picks the pool once, when the first of them
loads:

- ``default`` (protobuf's own pool) when nothing else claims the names: everything behaves as
  plain generated code, and a ``google.protobuf`` ``Struct`` or ``Timestamp`` built anywhere can
  be assigned into our messages;
- ``private`` (a pool of this package, holding copies of the well-known types it needs) when
  ``clarifai_grpc`` is imported or installed, so either package may be imported first. Our
  messages then take well-known values of this pool only: build them from
  :mod:`clarifai_grpc_client.proto.well_known` (or fill the field in place, e.g.
  ``msg.created_at.FromDatetime(...)``, ``msg.metadata.update({...})``).

``CLARIFAI_GRPC_CLIENT_DESCRIPTOR_POOL`` (``auto``, ``default`` or ``private``) overrides the
choice; it is read once, at import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal import enum_type_wrapper

ENV_VAR = "CLARIFAI_GRPC_CLIENT_DESCRIPTOR_POOL"
SETTINGS = ("auto", "default", "private")
# Packages that register the same ``clarifai.api`` names in the default pool.
CONFLICTING_PACKAGES = ("clarifai_grpc",)
# A name every version of this package (and of the published one) defines.
_PROBE_SYMBOL = "clarifai.api.status.Status"


class DescriptorPoolConflict(ImportError):
    """Our ``clarifai.api`` types cannot be registered in the pool that was asked for."""


def choose_mode(setting: str | None, names_taken: bool, conflicting_installed: bool) -> str:
    """``"default"`` or ``"private"`` for a setting of :data:`ENV_VAR` and what the process holds.

    ``names_taken``: the default pool already defines ``clarifai.api`` names (another package's);
    ``conflicting_installed``: a package that would define them is imported or importable.
    """
    value = (setting or "auto").strip().lower() or "auto"
    if value not in SETTINGS:
        raise DescriptorPoolConflict(f"{ENV_VAR}={setting!r} is not one of {', '.join(SETTINGS)}")
    if value == "default" and names_taken:
        raise DescriptorPoolConflict(_conflict_message())
    if value == "auto":
        return "private" if names_taken or conflicting_installed else "default"
    return value


def _conflict_message() -> str:
    return (
        "clarifai.api types are already registered in protobuf's default descriptor pool by another "
        "package (the published clarifai-grpc defines the same names), and "
        f"{ENV_VAR}=default asks for that pool too. Unset {ENV_VAR} (or set it to 'private') so that "
        "clarifai_grpc_client keeps its types in a pool of its own."
    )


def _names_taken() -> bool:
    try:
        descriptor_pool.Default().FindMessageTypeByName(_PROBE_SYMBOL)
    except KeyError:
        return False
    return True


def _installed(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _detect(environ: Mapping[str, str]) -> str:
    return choose_mode(environ.get(ENV_VAR), _names_taken(), any(_installed(n) for n in CONFLICTING_PACKAGES))


MODE: str = _detect(os.environ)
"""``"default"`` or ``"private"``: where this process keeps our types."""

_POOL: descriptor_pool.DescriptorPool = (
    descriptor_pool.Default() if MODE == "default" else descriptor_pool.DescriptorPool()
)


def pool() -> descriptor_pool.DescriptorPool:
    """The pool our generated types live in (protobuf's default pool, or our own)."""
    return _POOL


def _adopt(name: str) -> None:
    """Copy a file (and what it imports) from the default pool into ours, unless already there."""
    try:
        _POOL.FindFileByName(name)
        return
    except KeyError:
        pass
    source = descriptor_pool.Default().FindFileByName(name)
    for dep in source.dependencies:
        _adopt(dep.name)
    _POOL.AddSerializedFile(source.serialized_pb)


def include_default_files(*names: str) -> None:
    """Make files of protobuf's default pool (already imported) visible in ours too.

    For code that hands :func:`pool` to a library that looks up other services' types in it,
    such as gRPC server reflection. A no-op when our pool is the default one.
    """
    if _POOL is not descriptor_pool.Default():
        for name in names:
            _adopt(name)


def add_serialized_file(serialized: bytes) -> descriptor.FileDescriptor:
    """Register one generated file: what the generated ``*_pb2`` modules call instead of
    ``descriptor_pool.Default().AddSerializedFile``."""
    if _POOL is descriptor_pool.Default():
        try:
            return _POOL.AddSerializedFile(serialized)
        except TypeError as exc:  # upb and the C++ backend report a duplicate symbol so
            raise DescriptorPoolConflict(f"{_conflict_message()} ({exc})") from exc
    for dep in descriptor_pb2.FileDescriptorProto.FromString(serialized).dependency:
        _adopt(dep)
    return _POOL.AddSerializedFile(serialized)


def options(desc: Any) -> Any:
    """``desc.GetOptions()`` as a message of our pool, so that ``Extensions[...]`` of our own
    extensions (``clarifai.api.utils``) resolve. protobuf hands out options as messages of its
    default pool, which in private mode knows our extensions only as unknown fields."""
    opts = desc.GetOptions()
    if _POOL is descriptor_pool.Default():
        return opts
    return message_class(opts.DESCRIPTOR.full_name).FromString(opts.SerializeToString())


def message_class(full_name: str) -> Any:
    """The message class of ``full_name`` in our pool (its file must be loaded or adoptable)."""
    try:
        desc = _POOL.FindMessageTypeByName(full_name)
    except KeyError:
        _adopt(descriptor_pool.Default().FindMessageTypeByName(full_name).file.name)
        desc = _POOL.FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(desc)


def enum_type(full_name: str) -> enum_type_wrapper.EnumTypeWrapper:
    """The enum wrapper of ``full_name`` in our pool, like a generated module's enum attribute."""
    try:
        desc = _POOL.FindEnumTypeByName(full_name)
    except KeyError:
        _adopt(descriptor_pool.Default().FindEnumTypeByName(full_name).file.name)
        desc = _POOL.FindEnumTypeByName(full_name)
    return enum_type_wrapper.EnumTypeWrapper(desc)
