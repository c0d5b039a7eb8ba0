"""Extract the wire-relevant facts of the V2 service from a descriptor pool, as plain JSON.

Run as a subprocess, once per side: with ``--published`` it imports the ``clarifai-grpc``
wheel (the oracle), with ``--descriptor-set FILE`` it loads a FileDescriptorSet compiled from
our ``protos/``. Both sides register ``clarifai.api.*`` in the default pool, so they must
never share a process; ``check_conformance.py`` compares the two JSON documents.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool
from google.protobuf.json_format import MessageToDict

# Options that change wire bytes or JSON semantics; everything else (deprecation flags,
# server-side auth scopes) is left out of the comparison on purpose.
COMPARED_FIELD_OPTIONS = {"clarifai.api.utils.cl_show_if_empty", "clarifai.api.utils.cl_default_float"}
# Follow every type outside google.*: the published API also has one package-less type
# (MatrixUint64), which must match as well.
FOREIGN_PREFIX = "google."


def _field_facts(field: descriptor.FieldDescriptor) -> dict[str, Any]:
    ref = field.message_type or field.enum_type
    oneof = field.containing_oneof
    options = {
        fd.full_name: (value if not isinstance(value, float) else round(value, 6))
        for fd, value in field.GetOptions().ListFields()
        if fd.is_extension and fd.full_name in COMPARED_FIELD_OPTIONS
    }
    return {
        "number": field.number,
        "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
        "type_name": ref.full_name if ref is not None else "",
        "label": "repeated" if _is_repeated(field) else "singular",
        "json_name": field.json_name,
        "oneof": oneof.name if oneof is not None else "",
        "proto3_optional": field.has_presence and oneof is not None and oneof.name == "_" + field.name,
        "packed": bool(field.is_packed) if _is_repeated(field) else False,
        "options": options,
    }


def _is_repeated(field: descriptor.FieldDescriptor) -> bool:
    """``is_repeated`` on protobuf 6.x/7.x, ``label`` before (7.x dropped it)."""
    flag = getattr(field, "is_repeated", None)
    return bool(flag) if flag is not None else bool(getattr(field, "label") == 3)  # noqa: B009


def _message_facts(msg: descriptor.Descriptor) -> dict[str, Any]:
    return {
        "map_entry": msg.GetOptions().map_entry,
        "fields": {f.name: _field_facts(f) for f in msg.fields},
        "oneofs": sorted(o.name for o in msg.oneofs if not (len(o.fields) == 1 and o.name == "_" + o.fields[0].name)),
    }


def _enum_facts(enum: descriptor.EnumDescriptor) -> dict[str, Any]:
    return {"values": {v.name: v.number for v in enum.values}}


def _http_rule(method: descriptor.MethodDescriptor) -> dict[str, Any] | None:
    opts = method.GetOptions()
    for fd, value in opts.ListFields():
        if fd.full_name == "google.api.http":
            return MessageToDict(value, preserving_proto_field_name=True)
    return None


def collect(service: descriptor.ServiceDescriptor, rpc_names: list[str] | None) -> dict[str, Any]:
    """Facts for the named RPCs (all of the service's when None) and every type they reach."""
    methods = [m for m in service.methods if rpc_names is None or m.name in rpc_names]
    rpcs: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    stack: list[descriptor.Descriptor] = []
    for m in methods:
        rpcs[m.name] = {
            "input": m.input_type.full_name,
            "output": m.output_type.full_name,
            "client_streaming": m.client_streaming,
            "server_streaming": m.server_streaming,
            "http": _http_rule(m),
        }
        stack += [m.input_type, m.output_type]
    while stack:
        msg = stack.pop()
        if msg.full_name in messages:
            continue
        messages[msg.full_name] = _message_facts(msg)
        for f in msg.fields:
            if f.message_type is not None and not f.message_type.full_name.startswith(FOREIGN_PREFIX):
                stack.append(f.message_type)
            if f.enum_type is not None and not f.enum_type.full_name.startswith(FOREIGN_PREFIX):
                enums[f.enum_type.full_name] = _enum_facts(f.enum_type)
    # Status codes travel as an enum inside Status; the whole enum is part of the contract.
    if methods:
        code = service.file.pool.FindEnumTypeByName("clarifai.api.status.StatusCode")
        enums[code.full_name] = _enum_facts(code)
    return {"service": service.full_name, "rpcs": rpcs, "messages": messages, "enums": enums}


def _published_service() -> descriptor.ServiceDescriptor | None:
    from clarifai_grpc.grpc.api import service_pb2  # type: ignore[import-not-found]

    return service_pb2.DESCRIPTOR.services_by_name["V2"]


def _service_from_set(path: str) -> descriptor.ServiceDescriptor | None:
    """Load a FileDescriptorSet into the default pool; None when it defines no V2 service yet."""
    import google.api.annotations_pb2  # noqa: F401  (registers google.api.http in the default pool)

    pool = descriptor_pool.Default()
    with open(path, "rb") as fh:
        fds = descriptor_pb2.FileDescriptorSet.FromString(fh.read())
    for fdp in fds.file:
        try:
            pool.FindFileByName(fdp.name)
        except KeyError:
            pool.Add(fdp)
    try:
        return pool.FindServiceByName("clarifai.api.V2")
    except KeyError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--published", action="store_true", help="read the clarifai-grpc wheel's descriptors")
    side.add_argument("--descriptor-set", metavar="FILE", help="read a FileDescriptorSet built from protos/")
    parser.add_argument("--rpcs", help="comma-separated RPC names (default: every RPC of the service)")
    parser.add_argument("--types", help="comma-separated extra full type names to include")
    args = parser.parse_args(argv)
    service = _published_service() if args.published else _service_from_set(args.descriptor_set)
    rpcs = None if args.rpcs is None else [r for r in args.rpcs.split(",") if r]
    if service is not None:
        facts = collect(service, rpcs)
    else:
        facts = {"service": "", "rpcs": {}, "messages": {}, "enums": {}}
    pool = descriptor_pool.Default()
    for name in filter(None, (args.types or "").split(",")):
        try:
            facts["messages"][name] = _message_facts(pool.FindMessageTypeByName(name))
        except KeyError:
            try:
                facts["enums"][name] = _enum_facts(pool.FindEnumTypeByName(name))
            except KeyError:
                facts.setdefault("missing", []).append(name)
    json.dump(facts, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
