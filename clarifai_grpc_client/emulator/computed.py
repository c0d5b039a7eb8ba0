"""Answers for the RPCs that are no stored state: validate the request, answer a schema-valid response.

:func:`computed_handler` serves every RPC the schema classifies as ``computed`` and no special
handler claims. It checks what can be checked without the service's private knowledge:

- every id the route puts in the path is set (``*_INVALID_ARGUMENT`` of the family otherwise);
- every parent named by those ids exists where the emulator stores that kind (the model of
  ``.../models/{model_id}/publish``; the family's ``*_DOES_NOT_EXIST`` otherwise);
- every enum field holds a value the enum defines, at any depth (``CONN_INVALID_REQUEST``);

and then answers the response type with ``SUCCESS`` and no items: an empty page, an empty
count, an accepted write. Where an answer can be computed from what the emulator holds or knows
(model types of the built-in models, status codes, cloud catalogues, counts) a special handler
does so; see :mod:`.rpc_catalogues`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from . import engine, schema
from .context import CallContext
from .statuses import ApiFailure, invalid_code, missing_code
from .storage import Tx
from .._protobuf_compat import is_repeated

_FD = FieldDescriptor


def bad_enums(msg: Message, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Dotted names of enum fields in ``msg`` holding numbers their enum does not define."""
    if depth > 32:
        return
    for fd, value in msg.ListFields():
        name = f"{prefix}{fd.name}"
        if fd.type == _FD.TYPE_ENUM and fd.enum_type is not None:
            values = list(value) if is_repeated(fd) else [value]
            if any(v not in fd.enum_type.values_by_number for v in values):
                yield name
        elif fd.type == _FD.TYPE_MESSAGE and fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            for sub in (value if is_repeated(fd) else [value]):
                yield from bad_enums(sub, name + ".", depth + 1)


def check_enums(kind: str, req: Message) -> None:
    bad = sorted(set(bad_enums(req)))
    if bad:
        raise ApiFailure(invalid_code(kind), f"unknown enum value in {', '.join(bad)}")


def _exists(tx: Tx, ctx: CallContext, kind: str, scope: str, rid: str) -> bool:
    return engine.exists(tx, ctx, kind, scope, rid)


def check_route_ids(ctx: CallContext, plan: schema.Plan, req: Message) -> None:
    """Every path id of ``plan``'s route is set, and names an existing resource where one is stored."""
    route = plan.route
    if route is None:
        return
    scope = engine.owner_scope(route.owner, ctx)
    checks: list[tuple[str, str, str]] = []
    for i, seg in enumerate(route.segments):
        if not seg.startswith("{"):
            continue
        var = seg[1:-1]
        if var.startswith("user_app_id."):
            continue
        try:
            value = engine.get_path(req, var)
        except AttributeError:
            continue
        kind = engine.CATALOGUE.kind_at(route.owner, route.shape[:i])
        if not value:
            raise ApiFailure(invalid_code(kind or plan.kind or plan.rpc), f"{plan.rpc} needs '{var}'")
        col = engine.CATALOGUE.collections.get((route.owner, route.shape[:i]))
        if kind and col is not None and (col in engine.CATALOGUE.written or kind in engine.PARENT_CHECKS):
            checks.append((kind, scope, value))
            scope = engine.child_scope(scope, route.shape[i - 1], value) if i > 0 else scope
        else:
            break  # beyond what the emulator stores, ids are taken as given
    if not checks:
        return
    with ctx.storage.read() as tx:
        for kind, at, value in checks:
            if not _exists(tx, ctx, kind, at, value):
                raise ApiFailure(missing_code(kind), f"{engine.short(kind)} {value!r} does not exist")


def empty_response(rpc: str) -> Message:
    return message_factory.GetMessageClass(engine.V2.methods_by_name[rpc].output_type)()


def computed_handler(plan: schema.Plan) -> Callable[[CallContext, Message], Message]:
    """The validate-and-answer handler of a computed RPC."""

    def handle(ctx: CallContext, req: Message) -> Message:
        check_enums(plan.kind or plan.rpc, req)
        check_route_ids(ctx, plan, req)
        return empty_response(plan.rpc)

    handle.__name__ = f"computed_{plan.rpc}"
    return handle
