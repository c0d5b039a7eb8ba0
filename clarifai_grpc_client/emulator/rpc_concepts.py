"""Handlers for an app's concepts (PostConcepts, ListConcepts, GetConcept, PatchConcepts), and concept auto-creation."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from ..proto.clarifai.api import concepts_service_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from ..proto.clarifai.api.status import status_code_pb2
from . import patching
from .context import CallContext, page_bounds, rpc
from .ids import timestamp, valid_id
from .statuses import ApiFailure
from .storage import Tx


def stored_concept(given: Concept, app_id: str, user_id: str) -> Concept:
    """The concept as the app keeps it: its name defaults to its id, value 1, with owner and time."""
    c = copy.deepcopy(given)
    c.name = c.name or c.id
    c.value = 1.0
    c.app_id, c.user_id = app_id, user_id
    c.language = c.language or "en"
    if not c.HasField("created_at"):
        c.created_at.CopyFrom(timestamp())
    return c


def check_concept_ids(concepts: Iterable[Concept], code: int) -> None:
    for c in concepts:
        if not c.id:
            raise ApiFailure(code, f"concept {c.name!r} has no id; every concept needs an id")
        if not valid_id(c.id):
            raise ApiFailure(code, f"concept id {c.id!r} is not valid: use letters, digits, '_', '-' and '.'")


def ensure_concepts(tx: Tx, ctx: CallContext, concepts: Iterable[Concept]) -> None:
    """Create the app concepts that labels refer to but that do not exist yet."""
    wanted: dict[str, Concept] = {}
    for c in concepts:
        wanted.setdefault(c.id, c)
    missing = set(wanted) - tx.existing_concepts(ctx.app, list(wanted))
    for cid in sorted(missing):
        tx.insert_concept(ctx.app, stored_concept(wanted[cid], ctx.app_id, ctx.user_id))


@rpc("PostConcepts")
def post_concepts(ctx: CallContext, req: concepts_service_pb2.PostConceptsRequest) -> concepts_service_pb2.MultiConceptResponse:
    if not len(req.concepts):
        raise ApiFailure(status_code_pb2.CONCEPTS_INVALID_REQUEST, "PostConcepts needs at least one concept")
    check_concept_ids(req.concepts, status_code_pb2.CONCEPTS_INVALID_REQUEST)
    ids = [c.id for c in req.concepts]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"concept ids repeated in the request: {', '.join(repeated)}")
    built = [stored_concept(c, ctx.app_id, ctx.user_id) for c in req.concepts]
    with ctx.storage.write() as tx:
        taken = sorted(tx.existing_concepts(ctx.app, ids))
        if taken:
            raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"concepts already exist: {', '.join(taken)}")
        for c in built:
            tx.insert_concept(ctx.app, c)
    return concepts_service_pb2.MultiConceptResponse(concepts=built)


@rpc("ListConcepts")
def list_concepts(ctx: CallContext, req: concepts_service_pb2.ListConceptsRequest) -> concepts_service_pb2.MultiConceptResponse:
    offset, limit = page_bounds(req.page, req.per_page)
    with ctx.storage.read() as tx:
        concepts = tx.list_concepts(ctx.app, offset=offset, limit=limit, id_contains=req.id)
    return concepts_service_pb2.MultiConceptResponse(concepts=concepts)


@rpc("GetConcept")
def get_concept(ctx: CallContext, req: concepts_service_pb2.GetConceptRequest) -> concepts_service_pb2.SingleConceptResponse:
    with ctx.storage.read() as tx:
        found = tx.get_concepts(ctx.app, [req.concept_id]).get(req.concept_id)
    if found is None:
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"concept {req.concept_id!r} does not exist in app {ctx.app_id!r}")
    return concepts_service_pb2.SingleConceptResponse(concept=found)


@rpc("PatchConcepts")
def patch_concepts(ctx: CallContext, req: concepts_service_pb2.PatchConceptsRequest) -> concepts_service_pb2.MultiConceptResponse:
    try:
        action = patching.check_action(req.action, ("merge", "overwrite"))
    except ValueError as exc:
        raise ApiFailure(status_code_pb2.CONCEPTS_INVALID_REQUEST, str(exc)) from None
    check_concept_ids(req.concepts, status_code_pb2.CONCEPTS_INVALID_REQUEST)
    out = []
    with ctx.storage.write() as tx:
        stored = tx.get_concepts(ctx.app, [c.id for c in req.concepts])
        missing = sorted({c.id for c in req.concepts} - set(stored))
        if missing:
            raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"concepts do not exist: {', '.join(missing)}")
        for patch in req.concepts:
            new = patching.patch_concept(stored[patch.id], patch, action)
            stored[patch.id] = new
            tx.update_concept(ctx.app, new)
            out.append(new)
    return concepts_service_pb2.MultiConceptResponse(concepts=out)
