"""The generic resource engine: every RPC the :mod:`.schema` classifies as stored state, served from one table.

A resource is stored as its serialized message under ``(kind, scope, id)``: the kind is the
message's full name, the scope the owner (``user/app`` or ``user``) followed by each parent as
``/<collection>=<id>`` (``emulator-user/main/datasets=ds1``), the id the message's own id.

- **create**: ids are generated (32 hex digits) when the caller gives none; ``created_at`` /
  ``modified_at`` and the owner and parent id fields are filled in; a repeated id (in the
  request or already stored) fails the whole request with the family's ``*_DUPLICATE`` code
  (``DATABASE_DUPLICATE_KEY`` where the family has none). A nested child given with the parent
  (a pipeline's ``pipeline_version``) is stored as the child too.
- **get / list / view**: a missing item answers the family's ``*_DOES_NOT_EXIST`` code
  (``CONN_DOES_NOT_EXIST`` where there is none); lists are newest first, paged by ``page`` /
  ``per_page`` (default 128, at most 1000), filtered by ``ids`` and by ``id`` / ``name`` /
  ``search`` / ``query`` substrings where the request has those fields.
- **patch**: ``action`` ``merge`` (default), ``overwrite`` or ``remove`` as
  :func:`.patching.patch_message` defines them; **rename** (``Patch*Ids``) moves an item and
  everything under it to its new id.
- **delete**: all or nothing; deleting a parent deletes everything scoped under it;
  ``delete_all`` where the request has it.
- Missing parents (the dataset of a dataset version) answer the parent family's
  ``*_DOES_NOT_EXIST``; an empty path id answers the family's ``*_INVALID_ARGUMENT``.

Long-running resources (:data:`PROGRESSIONS`) are created in their first state and move one
state further each time a Get or List returns them, so a client polling until done sees every
state and finishes after two reads. Cancel moves them to their cancelled state at once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ..proto.clarifai.api import service_pb2
from ..proto.clarifai.api.status import status_code_pb2
from . import patching, schema
from .context import CallContext, page_bounds
from .ids import new_id, timestamp, valid_id
from .statuses import ApiFailure, duplicate_code, invalid_code, make_status, missing_code
from .storage import Tx
from .._protobuf_compat import is_repeated

V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
API = "clarifai.api."

# Collections that special handlers write (so reading them is stored state, not a catalogue).
ALSO_WRITTEN = (("app", "inputs"), ("app", "concepts"), ("app", "annotations"), ("user", "apps"), ("app", "workflows"),
                ("app", "inputs/jobs/add"), ("app", "inputs/jobs/extraction"), ("user", "duplications"),
                ("app", "artifacts/*/versions"), ("app", "pipeline_steps/*/versions"), ("app", "models/*/versions"))

# The states each long-running kind goes through, first to last (status code names).
PROGRESSIONS: dict[str, tuple[str, ...]] = {
    "BulkOperation": ("BULK_OPERATION_PENDING", "BULK_OPERATION_IN_PROGRESS", "BULK_OPERATION_SUCCESS"),
    "InputsAddJob": ("JOB_QUEUED", "JOB_RUNNING", "JOB_COMPLETED"),
    "InputsExtractionJob": ("JOB_QUEUED", "JOB_RUNNING", "JOB_COMPLETED"),
    "DatasetVersion": ("DATASET_VERSION_PENDING", "DATASET_VERSION_IN_PROGRESS", "DATASET_VERSION_READY"),
    "ModelVersion": ("MODEL_QUEUED_FOR_TRAINING", "MODEL_TRAINING", "MODEL_TRAINED"),
    "EvalMetrics": ("MODEL_QUEUED_FOR_EVALUATION", "MODEL_EVALUATING", "MODEL_EVALUATED"),
    "WorkflowVersionEvaluation": ("EVALUATION_PENDING", "EVALUATION_IN_PROGRESS", "EVALUATION_SUCCESS"),
    "AppDuplication": ("APP_DUPLICATION_PENDING", "APP_DUPLICATION_IN_PROGRESS", "APP_DUPLICATION_SUCCESS"),
    "LabelOrder": ("LABEL_ORDER_PENDING", "LABEL_ORDER_IN_PROGRESS", "LABEL_ORDER_SUCCESS"),
    "ModelVersionExport": ("MODEL_EXPORT_PENDING", "MODEL_EXPORTING", "MODEL_EXPORTED"),
    "PipelineStepVersion": ("PIPELINE_STEP_BUILDING", "PIPELINE_STEP_READY"),
    "PipelineVersionRun": ("JOB_QUEUED", "JOB_RUNNING", "JOB_COMPLETED"),
}
CANCELLED: dict[str, str] = {
    "BulkOperation": "BULK_OPERATION_CANCELLED", "InputsAddJob": "JOB_CANCELLED", "InputsExtractionJob": "JOB_CANCELLED",
    "LabelOrder": "LABEL_ORDER_CANCELED", "PipelineVersionRun": "JOB_CANCELLED",
}
_TIME_FIELDS = ("created_at", "modified_at", "last_modified_at")
_TEXT_FILTERS = ("id", "name", "search", "query")

CATALOGUE = schema.Catalogue(V2, also_written=ALSO_WRITTEN)

# Existence checks for parent kinds kept in their own tables: (tx, ctx, scope, id) -> bool.
ParentCheck = Callable[[Tx, CallContext, str, str], bool]
PARENT_CHECKS: dict[str, ParentCheck] = {}


def parent_check(kind: str) -> Callable[[ParentCheck], ParentCheck]:
    """Register how to tell whether a ``kind`` resource kept outside the generic table exists."""
    def register(fn: ParentCheck) -> ParentCheck:
        PARENT_CHECKS[API + kind] = fn
        return fn
    return register


def short(kind: str) -> str:
    return kind.rsplit(".", 1)[-1]


def message_class(kind: str) -> type[Message]:
    return message_factory.GetMessageClass(V2.file.pool.FindMessageTypeByName(kind))


def code(name: str) -> int:
    return int(status_code_pb2.StatusCode.Value(name))


# --- pure helpers over messages ---------------------------------------------------------


def get_path(msg: Message, dotted: str) -> str:
    value: object = msg
    for part in dotted.split("."):
        value = getattr(value, part)
    return str(value)


def set_path(msg: Message, dotted: str, value: str) -> None:
    *head, last = dotted.split(".")
    target = msg
    for part in head:
        target = getattr(target, part)
    setattr(target, last, value)


def has_status(desc: Any) -> bool:
    fd = desc.fields_by_name.get("status")
    return fd is not None and fd.message_type is not None and fd.message_type.full_name == "clarifai.api.status.Status"


def status_holder(msg: Message) -> Message | None:
    """The ``status`` message a long-running resource reports its state in (``orchestration_status.status`` too)."""
    if has_status(msg.DESCRIPTOR):
        return getattr(msg, "status")  # type: ignore[no-any-return]
    fd = msg.DESCRIPTOR.fields_by_name.get("orchestration_status")
    if fd is not None and fd.message_type is not None and has_status(fd.message_type):
        return getattr(getattr(msg, "orchestration_status"), "status")  # type: ignore[no-any-return]
    return None


def stamp(msg: Message, *, created: bool) -> None:
    now = timestamp()
    for name in _TIME_FIELDS:
        fd = msg.DESCRIPTOR.fields_by_name.get(name)
        if fd is None or fd.message_type is None or fd.message_type.full_name != "google.protobuf.Timestamp":
            continue
        if name == "created_at" and (not created or msg.HasField(name)):
            continue
        getattr(msg, name).CopyFrom(now)


def start_progress(msg: Message) -> None:
    states = PROGRESSIONS.get(msg.DESCRIPTOR.name)
    holder = status_holder(msg)
    if states and holder is not None:
        holder.CopyFrom(make_status(code(states[0])))


def advance(msg: Message) -> bool:
    """Move a long-running resource one state on; True when it changed."""
    states = PROGRESSIONS.get(msg.DESCRIPTOR.name)
    holder = status_holder(msg)
    if not states or holder is None:
        return False
    names = [code(s) for s in states]
    current = getattr(holder, "code")
    if current not in names or current == names[-1]:
        return False
    holder.CopyFrom(make_status(names[names.index(current) + 1]))
    stamp(msg, created=False)
    return True


def text_matches(msg: Message, needle: str) -> bool:
    hay = [get_path(msg, p) for p in ("id", "name") if p in msg.DESCRIPTOR.fields_by_name]
    return any(needle.lower() in h.lower() for h in hay)


# --- scopes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where one RPC's items live: the scope string, and the parents that lead to it."""

    scope: str
    owner: str
    parents: tuple[tuple[str, str, str], ...]  # (collection segment, kind, id)


def owner_scope(owner: str, ctx: CallContext) -> str:
    return ctx.app if owner == "app" else ctx.user_id if owner == "user" else ""


def child_scope(scope: str, segment: str, rid: str) -> str:
    return f"{scope}/{segment}={rid}"


def place_of(plan: schema.Plan, ctx: CallContext, req: Message) -> Place:
    """The scope ``req`` addresses under ``plan``'s collection, checking that every parent exists."""
    col = plan.collection
    assert col is not None
    scope = owner_scope(col.owner, ctx)
    parents = []
    stars = [i for i, s in enumerate(col.shape) if s == "*"]
    for (i, field_name) in zip(stars, plan.parent_fields):
        value = get_path(req, field_name)
        segment = col.shape[i - 1]
        parent_kind = CATALOGUE.kind_at(col.owner, col.shape[:i]) or ""
        if not value:
            raise ApiFailure(invalid_code(parent_kind or plan.kind), f"{plan.rpc} needs '{field_name}' (the {segment} it acts in)")
        parents.append((segment, parent_kind, value))
    with ctx.storage.read() as tx:
        check_scope = scope
        for segment, parent_kind, value in parents:
            if parent_kind and not exists(tx, ctx, parent_kind, check_scope, value):
                raise ApiFailure(missing_code(parent_kind), f"{short(parent_kind)} {value!r} does not exist")
            check_scope = child_scope(check_scope, segment, value)
    return Place(check_scope, col.owner, tuple(parents))


def exists(tx: Tx, ctx: CallContext, kind: str, scope: str, rid: str) -> bool:
    check = PARENT_CHECKS.get(kind)
    if check is not None:
        return check(tx, ctx, scope, rid)
    return tx.res_get(kind, scope, rid) is not None


# --- operations -----------------------------------------------------------------------------


def _items(plan: schema.Plan, req: Message) -> list[Message]:
    """The resources a create / patch request carries (its repeated field, and a singular one of the same kind)."""
    out = [copy.deepcopy(m) for m in getattr(req, plan.request_field)] if is_repeated(req.DESCRIPTOR.fields_by_name[plan.request_field]) \
        else ([copy.deepcopy(getattr(req, plan.request_field))] if req.HasField(plan.request_field) else [])
    for fd in req.DESCRIPTOR.fields:
        if fd.name != plan.request_field and not is_repeated(fd) and fd.message_type is not None \
                and fd.message_type.full_name == plan.kind and req.HasField(fd.name):
            out.insert(0, copy.deepcopy(getattr(req, fd.name)))
    return out


def _fill(resp: Message, plan: schema.Plan, items: Sequence[Message]) -> None:
    if not plan.response_field:
        return
    fd = resp.DESCRIPTOR.fields_by_name[plan.response_field]
    if fd.message_type is None or fd.message_type.full_name != plan.kind:
        return
    if is_repeated(fd):
        getattr(resp, plan.response_field).extend(items)
    elif items:
        getattr(resp, plan.response_field).CopyFrom(items[-1])


def _new_response(plan: schema.Plan) -> Message:
    return message_factory.GetMessageClass(V2.methods_by_name[plan.rpc].output_type)()


def _link(msg: Message, ctx: CallContext, place: Place, req: Message, plan: schema.Plan) -> None:
    """Fill the owner and parent id fields the message has and the caller left empty."""
    fields = msg.DESCRIPTOR.fields_by_name
    for name, value in (("user_id", ctx.user_id), ("app_id", ctx.app_id if place.owner == "app" else "")):
        if name in fields and fields[name].type == FieldDescriptor.TYPE_STRING and value and not getattr(msg, name):
            setattr(msg, name, value)
    for field_name in plan.parent_fields:
        leaf = field_name.split(".")[-1]
        if leaf in fields and fields[leaf].type == FieldDescriptor.TYPE_STRING and not getattr(msg, leaf):
            setattr(msg, leaf, get_path(req, field_name))


def _nested_children(kind: str, scope: str, segment: str, msg: Message) -> list[tuple[str, str, Message]]:
    """(child kind, child scope, child) for each nested child collection item set on ``msg``."""
    out: list[tuple[str, str, Message]] = []
    col = next((c for c in CATALOGUE.collections.values() if c.kind == kind and c.shape[-1] == segment), None)
    if col is None:
        return out
    for child in CATALOGUE.collections.values():
        if child.owner == col.owner and child.shape[:-2] == col.shape and len(child.shape) == len(col.shape) + 2:
            name = CATALOGUE.nested_field(kind, child.kind)
            if name and msg.HasField(name):
                out.append((child.kind, child_scope(scope, segment, get_path(msg, "id")), getattr(msg, name)))
    return out


def op_create(ctx: CallContext, plan: schema.Plan, req: Message, *, replace: bool = False) -> Message:
    place = place_of(plan, ctx, req)
    items = _items(plan, req)
    kind = plan.kind
    if not items:
        raise ApiFailure(invalid_code(kind), f"{plan.rpc} needs at least one {short(kind)} in '{plan.request_field}'")
    desc = message_class(kind).DESCRIPTOR
    idp = schema.id_path(desc)
    segment = plan.collection.shape[-1] if plan.collection else ""
    for item in items:
        if idp:
            if not get_path(item, idp):
                if "." in idp:
                    raise ApiFailure(invalid_code(kind), f"every {short(kind)} needs '{idp}'")
                set_path(item, idp, new_id())
            if not valid_id(get_path(item, idp)):
                raise ApiFailure(invalid_code(kind), f"{short(kind)} id {get_path(item, idp)!r} is not valid: "
                                 "use 1-128 letters, digits, '_', '-' and '.'")
        _link(item, ctx, place, req, plan)
        stamp(item, created=True)
        holder = status_holder(item)
        if holder is not None and not getattr(holder, "code"):
            start_progress(item)
    ids = [get_path(i, idp) if idp else new_id() for i in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiFailure(duplicate_code(kind), f"{short(kind)} ids repeated in the request: {', '.join(repeated)}; nothing was created")
    with ctx.storage.write() as tx:
        if idp == "input.id" and place.owner == "app":  # a dataset input names a stored input: take it whole
            stored = tx.get_inputs(ctx.app, ids)
            unknown = sorted(set(ids) - set(stored))
            if unknown:
                raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"inputs do not exist: {', '.join(unknown)}; nothing was added")
            for item in items:
                getattr(item, "input").CopyFrom(stored[get_path(item, idp)])
        taken = sorted(tx.res_existing(kind, place.scope, ids))
        if taken and not replace:
            raise ApiFailure(duplicate_code(kind), f"{short(kind)}s already exist: {', '.join(taken)}; nothing was created")
        for rid, item in zip(ids, items):
            if rid in taken:
                tx.res_update(kind, place.scope, rid, item.SerializeToString())
            else:
                tx.res_insert(kind, place.scope, rid, item.SerializeToString())
            for child_kind, cscope, child in _nested_children(kind, place.scope, segment, item):
                child_desc = child.DESCRIPTOR
                cid_path = schema.id_path(child_desc)
                if cid_path and not get_path(child, cid_path):
                    set_path(child, cid_path, new_id())
                stamp(child, created=True)
                if status_holder(child) is not None and not getattr(status_holder(child), "code"):
                    start_progress(child)
                cid = get_path(child, cid_path) if cid_path else new_id()
                if tx.res_get(child_kind, cscope, cid) is None:
                    tx.res_insert(child_kind, cscope, cid, child.SerializeToString())
        parent_msg = _parent_message(tx, place)
    resp = _new_response(plan)
    _fill(resp, plan, items)
    _fill_parent(resp, plan, parent_msg, items)
    return resp


def _parent_message(tx: Tx, place: Place) -> Message | None:
    if not place.parents:
        return None
    segment, kind, rid = place.parents[-1]
    if not kind:
        return None
    scope = place.scope.rsplit("/", 1)[0]
    blob = tx.res_get(kind, scope, rid)
    return message_class(kind).FromString(blob) if blob is not None else None


def _fill_parent(resp: Message, plan: schema.Plan, parent: Message | None, items: Sequence[Message]) -> None:
    """PostModelVersions answers the model with its new version: a response field of the parent's kind."""
    if not plan.response_field or parent is None or not items:
        return
    fd = resp.DESCRIPTOR.fields_by_name[plan.response_field]
    if fd.message_type is None or fd.message_type.full_name != parent.DESCRIPTOR.full_name or is_repeated(fd):
        return
    out = getattr(resp, plan.response_field)
    out.CopyFrom(parent)
    nested = CATALOGUE.nested_field(parent.DESCRIPTOR.full_name, plan.kind)
    if nested:
        getattr(out, nested).CopyFrom(items[-1])


def _read(tx: Tx, kind: str, scope: str, rid: str, *, progress: bool = True) -> Message | None:
    blob = tx.res_get(kind, scope, rid)
    if blob is None:
        return None
    msg = message_class(kind).FromString(blob)
    if progress and advance(msg):
        tx.res_update(kind, scope, rid, msg.SerializeToString())
    return msg


def op_get(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    rid = get_path(req, plan.item_field) if plan.item_field else "-"
    if not rid:
        raise ApiFailure(invalid_code(plan.kind), f"{plan.rpc} needs '{plan.item_field}'")
    with ctx.storage.write() as tx:
        msg = _read(tx, plan.kind, place.scope, rid)
    if msg is None:
        what = f"{short(plan.kind)} {rid!r}" if plan.item_field else f"the {short(plan.kind)}"
        raise ApiFailure(missing_code(plan.kind), f"{what} does not exist")
    resp = _new_response(plan)
    _fill(resp, plan, [msg])
    return resp


def _text_filter(req: Message) -> str:
    for name in _TEXT_FILTERS:
        fd = req.DESCRIPTOR.fields_by_name.get(name)
        if fd is not None and fd.type == FieldDescriptor.TYPE_STRING and not is_repeated(fd) and getattr(req, name):
            return str(getattr(req, name))
    return ""


def op_list(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    page, per_page = (getattr(req, "page"), getattr(req, "per_page")) if plan.paginated else (1, 0)
    offset, limit = page_bounds(page, per_page)
    ids = list(getattr(req, plan.ids_field)) if plan.ids_field else []
    needle = _text_filter(req)
    cls = message_class(plan.kind)
    out = []
    with ctx.storage.write() as tx:
        if needle:
            rows = tx.res_list(plan.kind, place.scope, ids=ids)
            msgs = [(rid, cls.FromString(b)) for rid, b in rows]
            msgs = [(rid, m) for rid, m in msgs if text_matches(m, needle)][offset:offset + limit]
        else:
            msgs = [(rid, cls.FromString(b)) for rid, b in tx.res_list(plan.kind, place.scope, offset=offset, limit=limit, ids=ids)]
        for rid, msg in msgs:
            if advance(msg):
                tx.res_update(plan.kind, place.scope, rid, msg.SerializeToString())
            out.append(msg)
    resp = _new_response(plan)
    _fill(resp, plan, out)
    return resp


def op_patch(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    kind = plan.kind
    action = getattr(req, "action") if plan.has_action else "merge"
    try:
        action = patching.check_action(action)
    except ValueError as exc:
        raise ApiFailure(invalid_code(kind), str(exc)) from None
    items = _items(plan, req)
    if not items:
        raise ApiFailure(invalid_code(kind), f"{plan.rpc} needs at least one {short(kind)} in '{plan.request_field}'")
    idp = schema.id_path(message_class(kind).DESCRIPTOR) or "id"
    ids = [get_path(i, idp) for i in items]
    if not all(ids):
        raise ApiFailure(invalid_code(kind), f"every {short(kind)} to patch needs '{idp}'")
    out = []
    with ctx.storage.write() as tx:
        missing = sorted(set(ids) - tx.res_existing(kind, place.scope, ids))
        if missing:
            raise ApiFailure(missing_code(kind), f"{short(kind)}s do not exist: {', '.join(missing)}; nothing was changed")
        current = {rid: message_class(kind).FromString(tx.res_get(kind, place.scope, rid) or b"") for rid in set(ids)}
        for rid, item in zip(ids, items):
            new = patching.patch_message(current[rid], item, action)
            stamp(new, created=False)
            current[rid] = new
            tx.res_update(kind, place.scope, rid, new.SerializeToString())
            out.append(new)
    resp = _new_response(plan)
    _fill(resp, plan, out)
    return resp


def op_rename(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    kind = plan.kind
    pairs = [(u.id, u.new_id) for u in getattr(req, "ids")]
    if not pairs or not all(a and b for a, b in pairs):
        raise ApiFailure(invalid_code(kind), f"{plan.rpc} needs 'ids' entries with both 'id' and 'new_id'")
    bad = [b for _, b in pairs if not valid_id(b)]
    if bad:
        raise ApiFailure(invalid_code(kind), f"new id {bad[0]!r} is not valid: use 1-128 letters, digits, '_', '-' and '.'")
    segment = plan.collection.shape[-1] if plan.collection else ""
    out = []
    with ctx.storage.write() as tx:
        olds = [a for a, _ in pairs]
        missing = sorted(set(olds) - tx.res_existing(kind, place.scope, olds))
        if missing:
            raise ApiFailure(missing_code(kind), f"{short(kind)}s do not exist: {', '.join(missing)}; nothing was renamed")
        news = [b for _, b in pairs]
        taken = sorted(tx.res_existing(kind, place.scope, news) - set(olds))
        if taken or len(set(news)) != len(news):
            raise ApiFailure(duplicate_code(kind), f"new ids already in use: {', '.join(taken or news)}; nothing was renamed")
        for old, new in pairs:
            msg = message_class(kind).FromString(tx.res_get(kind, place.scope, old) or b"")
            msg_id = "id" if "id" in msg.DESCRIPTOR.fields_by_name else ""
            if msg_id:
                setattr(msg, msg_id, new)
            stamp(msg, created=False)
            tx.res_update(kind, place.scope, old, msg.SerializeToString(), new_id=new)
            tx.res_rescope(child_scope(place.scope, segment, old), child_scope(place.scope, segment, new))
            out.append(msg)
    resp = _new_response(plan)
    _fill(resp, plan, out)
    return resp


def op_delete(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    kind = plan.kind
    ids = list(getattr(req, plan.ids_field)) if plan.ids_field else ([get_path(req, plan.item_field)] if plan.item_field else [])
    ids = [i for i in ids if i]
    delete_all = "delete_all" in req.DESCRIPTOR.fields_by_name and bool(getattr(req, "delete_all"))
    if not ids and not delete_all:
        field_name = plan.ids_field or plan.item_field
        raise ApiFailure(invalid_code(kind), f"{plan.rpc} needs the ids to delete in '{field_name}'"
                         + (" (or delete_all)" if "delete_all" in req.DESCRIPTOR.fields_by_name else ""))
    segment = plan.collection.shape[-1] if plan.collection else ""
    deleted = []
    with ctx.storage.write() as tx:
        if delete_all:
            ids = [rid for rid, _ in tx.res_list(kind, place.scope)]
        missing = sorted(set(ids) - tx.res_existing(kind, place.scope, ids))
        if missing:
            raise ApiFailure(missing_code(kind), f"{short(kind)}s do not exist: {', '.join(missing)}; nothing was deleted")
        cls = message_class(kind)
        for rid in dict.fromkeys(ids):
            deleted.append(cls.FromString(tx.res_get(kind, place.scope, rid) or b""))
            tx.res_delete(kind, place.scope, [rid])
            tx.res_delete_under(child_scope(place.scope, segment, rid))
    resp = _new_response(plan)
    _fill(resp, plan, deleted)
    return resp


def op_cancel(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    kind = plan.kind
    ids = list(getattr(req, plan.ids_field)) if plan.ids_field else [get_path(req, plan.item_field)]
    ids = [i for i in ids if i]
    if not ids:
        raise ApiFailure(invalid_code(kind), f"{plan.rpc} needs the ids to cancel")
    final = CANCELLED.get(short(kind))
    out = []
    with ctx.storage.write() as tx:
        missing = sorted(set(ids) - tx.res_existing(kind, place.scope, ids))
        if missing:
            raise ApiFailure(missing_code(kind), f"{short(kind)}s do not exist: {', '.join(missing)}; nothing was cancelled")
        for rid in ids:
            msg = message_class(kind).FromString(tx.res_get(kind, place.scope, rid) or b"")
            holder = status_holder(msg)
            done = PROGRESSIONS.get(short(kind), ("",))[-1]
            if final and holder is not None and getattr(holder, "code") != (code(done) if done else -1):
                holder.CopyFrom(make_status(code(final)))
                stamp(msg, created=False)
                tx.res_update(kind, place.scope, rid, msg.SerializeToString())
            out.append(msg)
    resp = _new_response(plan)
    _fill(resp, plan, out)
    return resp


def op_singleton_put(ctx: CallContext, plan: schema.Plan, req: Message) -> Message:
    place = place_of(plan, ctx, req)
    with ctx.storage.write() as tx:
        msg = _read(tx, plan.kind, place.scope, "-", progress=False)
        if msg is None:
            msg = message_class(plan.kind)()
            start_progress(msg)
            tx.res_insert(plan.kind, place.scope, "-", msg.SerializeToString())
    resp = _new_response(plan)
    _fill(resp, plan, [msg])
    return resp


OPERATIONS: dict[str, Callable[[CallContext, schema.Plan, Message], Message]] = {
    "create": op_create,
    "upsert": lambda ctx, plan, req: op_create(ctx, plan, req, replace=True),
    "get": op_get,
    "view": op_get,
    "singleton_get": op_get,
    "singleton_put": op_singleton_put,
    "list": op_list,
    "patch": op_patch,
    "rename": op_rename,
    "delete": op_delete,
    "cancel": op_cancel,
}


def handler_scope(plan: schema.Plan) -> str:
    """What the dispatcher resolves before the call: an existing ``app``, the ``user``, or ``none``."""
    owner = plan.collection.owner if plan.collection is not None else (plan.route.owner if plan.route else "root")
    return {"app": "app", "user": "user"}.get(owner, "none")


def stored_handler(plan: schema.Plan) -> Callable[[CallContext, Message], Message]:
    op = OPERATIONS[plan.operation]

    def handle(ctx: CallContext, req: Message) -> Message:
        return op(ctx, plan, req)

    handle.__name__ = f"{plan.operation}_{short(plan.kind)}"
    return handle


def stored_kinds() -> Iterable[str]:
    return {c.kind for c in CATALOGUE.collections.values()}
