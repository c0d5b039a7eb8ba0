"""Handlers for annotations: PostAnnotations, GetAnnotation, ListAnnotations, PatchAnnotations, DeleteAnnotation(s)."""

from __future__ import annotations

import copy

from ..proto.clarifai.api import annotations_service_pb2, core_pb2
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from . import patching
from .context import CallContext, page_bounds, rpc
from .ids import new_id, timestamp, valid_id
from .rpc_concepts import check_concept_ids, ensure_concepts
from .statuses import ApiFailure, make_status

_CODE = status_code_pb2.ANNOTATION_INVALID_ARGUMENT


def _input_level(data: core_pb2.Data) -> bool:
    return not (len(data.regions) or len(data.frames) or len(data.time_segments) or len(data.tracks))


def stored_annotation(given: core_pb2.Annotation, user_id: str) -> core_pb2.Annotation:
    ann = copy.deepcopy(given)
    now = timestamp()
    ann.created_at.CopyFrom(now)
    ann.modified_at.CopyFrom(now)
    ann.user_id = ann.user_id or user_id
    ann.input_level = _input_level(ann.data)
    if not ann.status.code:
        ann.status.CopyFrom(make_status(status_code_pb2.ANNOTATION_SUCCESS))
    return ann


@rpc("PostAnnotations")
def post_annotations(ctx: CallContext, req: annotations_service_pb2.PostAnnotationsRequest) -> annotations_service_pb2.MultiAnnotationResponse:
    if not len(req.annotations):
        raise ApiFailure(_CODE, "PostAnnotations needs at least one annotation")
    built = []
    for given in req.annotations:
        ann = stored_annotation(given, ctx.principal.user_id)
        ann.id = ann.id or new_id()
        if not valid_id(ann.id):
            raise ApiFailure(_CODE, f"annotation id {ann.id!r} is not valid")
        if not ann.input_id:
            raise ApiFailure(_CODE, f"annotation {ann.id!r} has no input_id")
        built.append(ann)
    check_concept_ids([c for a in built for c in a.data.concepts], _CODE)
    for a in built:
        for r in a.data.regions:
            check_concept_ids(r.data.concepts, _CODE)
    ids = [a.id for a in built]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"annotation ids repeated in the request: {', '.join(repeated)}")
    with ctx.storage.write() as tx:
        taken = sorted(tx.existing_annotations(ctx.app, ids))
        if taken:
            raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"annotations already exist: {', '.join(taken)}")
        input_ids = sorted({a.input_id for a in built})
        missing = sorted(set(input_ids) - tx.existing_inputs(ctx.app, input_ids))
        if missing:
            raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"annotations refer to inputs that do not exist: {', '.join(missing)}")
        for a in built:
            tx.insert_annotation(ctx.app, a)
        ensure_concepts(tx, ctx, [c for a in built for c in a.data.concepts]
                        + [c for a in built for r in a.data.regions for c in r.data.concepts])
    return annotations_service_pb2.MultiAnnotationResponse(annotations=built)


@rpc("GetAnnotation")
def get_annotation(ctx: CallContext, req: annotations_service_pb2.GetAnnotationRequest) -> annotations_service_pb2.SingleAnnotationResponse:
    with ctx.storage.read() as tx:
        ann = tx.get_annotations(ctx.app, [req.annotation_id]).get(req.annotation_id)
    if ann is None or (req.input_id and ann.input_id != req.input_id):
        raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"annotation {req.annotation_id!r} of input {req.input_id!r} does not exist")
    return annotations_service_pb2.SingleAnnotationResponse(annotation=ann)


@rpc("ListAnnotations")
def list_annotations(ctx: CallContext, req: annotations_service_pb2.ListAnnotationsRequest) -> annotations_service_pb2.MultiAnnotationResponse:
    offset, limit = page_bounds(req.page, req.per_page)
    with ctx.storage.read() as tx:
        anns = tx.list_annotations(ctx.app, offset=offset, limit=limit, ids=list(req.ids), input_ids=list(req.input_ids),
                                   user_ids=list(req.user_ids), statuses=[s.code for s in req.statuses if s.code],
                                   model_version_ids=list(req.model_version_ids))
    return annotations_service_pb2.MultiAnnotationResponse(annotations=anns)


@rpc("PatchAnnotations")
def patch_annotations(ctx: CallContext, req: annotations_service_pb2.PatchAnnotationsRequest) -> annotations_service_pb2.MultiAnnotationResponse:
    try:
        action = patching.check_action(req.action)
    except ValueError as exc:
        raise ApiFailure(_CODE, str(exc)) from None
    if not len(req.annotations) or any(not a.id for a in req.annotations):
        raise ApiFailure(_CODE, "PatchAnnotations needs annotations, each with its id")
    check_concept_ids([c for a in req.annotations for c in a.data.concepts], _CODE)
    out: dict[str, core_pb2.Annotation] = {}
    deleted: list[str] = []
    with ctx.storage.write() as tx:
        stored = tx.get_annotations(ctx.app, [a.id for a in req.annotations])
        missing = sorted({a.id for a in req.annotations} - set(stored))
        if missing:
            raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"annotations do not exist: {', '.join(missing)}; nothing was changed")
        for patch in req.annotations:
            if patch.input_id and patch.input_id != stored[patch.id].input_id:
                raise ApiFailure(_CODE, f"annotation {patch.id!r} belongs to input {stored[patch.id].input_id!r}, not {patch.input_id!r}")
            out[patch.id] = patching.patch_annotation(out.get(patch.id, stored[patch.id]), patch, action)
        for ann in list(out.values()):
            if req.delete_if_empty_data and patching.data_is_empty(ann.data):
                deleted.append(ann.id)
                del out[ann.id]
            else:
                tx.update_annotation(ctx.app, ann)
        if deleted:
            tx.delete_annotations(ctx.app, deleted)
        ensure_concepts(tx, ctx, [c for a in out.values() for c in a.data.concepts])
    return annotations_service_pb2.MultiAnnotationResponse(annotations=list(out.values()))


@rpc("DeleteAnnotation")
def delete_annotation(ctx: CallContext, req: annotations_service_pb2.DeleteAnnotationRequest) -> status_pb2.BaseResponse:
    with ctx.storage.write() as tx:
        ann = tx.get_annotations(ctx.app, [req.annotation_id]).get(req.annotation_id)
        if ann is None or (req.input_id and ann.input_id != req.input_id):
            raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST,
                             f"annotation {req.annotation_id!r} of input {req.input_id!r} does not exist")
        tx.delete_annotations(ctx.app, [ann.id])
    return status_pb2.BaseResponse()


@rpc("DeleteAnnotations")
def delete_annotations(ctx: CallContext, req: annotations_service_pb2.DeleteAnnotationsRequest) -> status_pb2.BaseResponse:
    """By ``ids`` (each paired with ``input_ids`` when both are given), or every annotation of ``input_ids``."""
    if not len(req.ids) and not len(req.input_ids):
        raise ApiFailure(_CODE, "give the ids of the annotations to delete, or input_ids to delete all their annotations")
    with ctx.storage.write() as tx:
        if len(req.ids):
            found = tx.get_annotations(ctx.app, list(req.ids))
            missing = sorted(set(req.ids) - set(found))
            if missing:
                raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"annotations do not exist: {', '.join(missing)}; nothing was deleted")
            if len(req.input_ids) == len(req.ids):
                wrong = [a for a, i in zip(req.ids, req.input_ids) if found[a].input_id != i]
                if wrong:
                    raise ApiFailure(_CODE, f"annotations not on the given inputs: {', '.join(wrong)}; nothing was deleted")
            tx.delete_annotations(ctx.app, sorted(found))
        else:
            anns = tx.list_annotations(ctx.app, input_ids=list(req.input_ids))
            tx.delete_annotations(ctx.app, [a.id for a in anns])
    return status_pb2.BaseResponse()
