"""Handlers for inputs: PostInputs, GetInput, ListInputs, StreamInputs, PatchInputs, DeleteInput(s), GetInputCount.

Inputs are "processed" at once: they are stored with status ``INPUT_DOWNLOAD_SUCCESS`` and their
built-in embedding. URLs are stored as given and never fetched. Every write is one transaction:
a batch with one bad input writes nothing.
"""

from __future__ import annotations

import copy

from ..proto.clarifai.api import core_pb2, inputs_pb2, inputs_service_pb2
from ..proto.clarifai.api.media_pb2 import ImageInfo, TextInfo
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from . import imaging, models, patching
from .context import CallContext, page_bounds, rpc
from .ids import new_id, timestamp, valid_id
from .rpc_concepts import check_concept_ids, ensure_concepts
from .statuses import ApiFailure, make_status

MAX_BATCH = 128


def has_media(data: core_pb2.Data) -> bool:
    return bool(data.image.url or data.image.base64 or data.video.url or data.video.base64 or data.audio.url
                or data.audio.base64 or data.text.raw or data.text.url)


def _problem(inp: core_pb2.Input) -> str:
    """Why ``inp`` cannot be added, or ''."""
    if not valid_id(inp.id):
        return f"input id {inp.id!r} is not valid: use 1-128 letters, digits, '_', '-' and '.'"
    if not has_media(inp.data):
        return f"input {inp.id!r} has no content: set data.image, data.video, data.audio or data.text (url, base64 or raw)"
    for c in inp.data.concepts:
        if not c.id or not valid_id(c.id):
            return f"input {inp.id!r} has a concept without a valid id ({c.id!r})"
    return ""


def stored_input(given: core_pb2.Input) -> core_pb2.Input:
    """The input as the app keeps it: processed, timestamped, with media info filled in."""
    inp = copy.deepcopy(given)
    now = timestamp()
    inp.created_at.CopyFrom(now)
    inp.modified_at.CopyFrom(now)
    inp.status.CopyFrom(make_status(status_code_pb2.INPUT_DOWNLOAD_SUCCESS))
    if inp.data.image.base64:
        header = imaging.sniff(inp.data.image.base64)
        if header is not None:
            inp.data.image.image_info.CopyFrom(ImageInfo(width=header.width, height=header.height, format=header.format,
                                                         color_mode="RGB"))
    if inp.data.text.raw:
        inp.data.text.text_info.CopyFrom(TextInfo(char_count=len(inp.data.text.raw), encoding="UTF-8"))
    return inp


def _embedding(inp: core_pb2.Input) -> list[float] | None:
    try:
        return models.embed(inp.data)
    except models.PredictionError:
        return None


def _refuse(inputs: list[core_pb2.Input], bad: dict[int, status_pb2.Status], code: int, details: str) -> ApiFailure:
    partial = inputs_service_pb2.MultiInputResponse()
    for i, inp in enumerate(inputs):
        out = partial.inputs.add()
        out.CopyFrom(inp)
        if i in bad:
            out.status.CopyFrom(bad[i])
    return ApiFailure(code, details, partial=partial)


@rpc("PostInputs")
def post_inputs(ctx: CallContext, req: inputs_service_pb2.PostInputsRequest) -> inputs_service_pb2.MultiInputResponse:
    if not len(req.inputs):
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, "PostInputs needs at least one input")
    if len(req.inputs) > MAX_BATCH:
        raise ApiFailure(status_code_pb2.INPUT_OVER_LIMIT, f"{len(req.inputs)} inputs in one request; at most {MAX_BATCH} are allowed")
    given = [copy.deepcopy(i) for i in req.inputs]
    for inp in given:
        inp.id = inp.id or new_id()
    bad = {i: make_status(status_code_pb2.INPUT_INVALID_ARGUMENT, p) for i, inp in enumerate(given) if (p := _problem(inp))}
    if bad:
        raise _refuse(given, bad, status_code_pb2.INPUT_INVALID_ARGUMENT, next(iter(bad.values())).details)
    ids = [i.id for i in given]
    repeated = {i for i in ids if ids.count(i) > 1}
    if repeated:
        dup = {i: make_status(status_code_pb2.INPUT_DUPLICATE, f"input id {inp.id!r} appears more than once in the request")
               for i, inp in enumerate(given) if inp.id in repeated}
        raise _refuse(given, dup, status_code_pb2.INPUT_DUPLICATE,
                      f"input ids repeated in the request: {', '.join(sorted(repeated))}; nothing was added")
    built = [stored_input(i) for i in given]
    vectors = [_embedding(i) for i in built]
    policy = req.input_id_conflict_resolution
    with ctx.storage.write() as tx:
        taken = tx.existing_inputs(ctx.app, ids)
        if taken and policy == inputs_pb2.SKIP:
            keep = [k for k, inp in enumerate(built) if inp.id not in taken]
            built, vectors = [built[k] for k in keep], [vectors[k] for k in keep]
        elif taken and policy == inputs_pb2.SUFFIX:
            for inp in built:
                while inp.id in taken:
                    inp.id = f"{inp.id}-{new_id()[:8]}"
        elif taken:
            dup = {i: make_status(status_code_pb2.INPUT_DUPLICATE, f"an input with id {inp.id!r} already exists")
                   for i, inp in enumerate(given) if inp.id in taken}
            raise _refuse(given, dup, status_code_pb2.INPUT_DUPLICATE,
                          f"inputs already exist: {', '.join(sorted(taken))}; nothing was added")
        for inp, vec in zip(built, vectors):
            tx.insert_input(ctx.app, inp, vec)
        ensure_concepts(tx, ctx, [c for inp in built for c in inp.data.concepts])
    return inputs_service_pb2.MultiInputResponse(inputs=built)


@rpc("GetInput")
def get_input(ctx: CallContext, req: inputs_service_pb2.GetInputRequest) -> inputs_service_pb2.SingleInputResponse:
    with ctx.storage.read() as tx:
        inp = tx.get_input(ctx.app, req.input_id)
    if inp is None:
        raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"input {req.input_id!r} does not exist in app {ctx.app_id!r}")
    return inputs_service_pb2.SingleInputResponse(input=inp)


@rpc("ListInputs")
def list_inputs(ctx: CallContext, req: inputs_service_pb2.ListInputsRequest) -> inputs_service_pb2.MultiInputResponse:
    offset, limit = page_bounds(req.page, req.per_page)
    status = req.status.code if req.HasField("status") and req.status.code else None
    with ctx.storage.read() as tx:
        inputs = tx.list_inputs(ctx.app, offset=offset, limit=limit, ids=list(req.ids), status=status)
    return inputs_service_pb2.MultiInputResponse(inputs=inputs)


@rpc("StreamInputs")
def stream_inputs(ctx: CallContext, req: inputs_service_pb2.StreamInputsRequest) -> inputs_service_pb2.MultiInputResponse:
    _, limit = page_bounds(1, req.per_page)
    with ctx.storage.read() as tx:
        inputs = tx.stream_inputs(ctx.app, limit=limit, last_id=req.last_id, descending=req.descending,
                                  order_by_id=req.order_by_id)
    if inputs is None:
        raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"last_id {req.last_id!r} was never an input of app {ctx.app_id!r}")
    return inputs_service_pb2.MultiInputResponse(inputs=inputs)


@rpc("PatchInputs")
def patch_inputs(ctx: CallContext, req: inputs_service_pb2.PatchInputsRequest) -> inputs_service_pb2.MultiInputResponse:
    try:
        action = patching.check_action(req.action)
    except ValueError as exc:
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, str(exc)) from None
    if not len(req.inputs):
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, "PatchInputs needs at least one input")
    if any(not i.id for i in req.inputs):
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, "every input to patch needs its id")
    check_concept_ids([c for i in req.inputs for c in i.data.concepts], status_code_pb2.INPUT_INVALID_ARGUMENT)
    out: dict[str, core_pb2.Input] = {}
    with ctx.storage.write() as tx:
        stored = tx.get_inputs(ctx.app, [i.id for i in req.inputs])
        missing = sorted({i.id for i in req.inputs} - set(stored))
        if missing:
            raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"inputs do not exist: {', '.join(missing)}; nothing was changed")
        for patch in req.inputs:
            new = patching.patch_input(out.get(patch.id, stored[patch.id]), patch, action)
            out[patch.id] = new
        for new in out.values():
            tx.update_input(ctx.app, new)
        ensure_concepts(tx, ctx, [c for inp in out.values() for c in inp.data.concepts])
    return inputs_service_pb2.MultiInputResponse(inputs=list(out.values()))


def _delete(ctx: CallContext, ids: list[str]) -> None:
    if not ids or any(not i for i in ids):
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, "give the ids of the inputs to delete")
    with ctx.storage.write() as tx:
        missing = sorted(set(ids) - tx.existing_inputs(ctx.app, ids))
        if missing:
            raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"inputs do not exist: {', '.join(missing)}; nothing was deleted")
        tx.delete_inputs(ctx.app, sorted(set(ids)))


@rpc("DeleteInput")
def delete_input(ctx: CallContext, req: inputs_service_pb2.DeleteInputRequest) -> status_pb2.BaseResponse:
    _delete(ctx, [req.input_id])
    return status_pb2.BaseResponse()


@rpc("DeleteInputs")
def delete_inputs(ctx: CallContext, req: inputs_service_pb2.DeleteInputsRequest) -> status_pb2.BaseResponse:
    _delete(ctx, list(req.ids))
    return status_pb2.BaseResponse()


@rpc("GetInputCount")
def get_input_count(ctx: CallContext, req: inputs_service_pb2.GetInputCountRequest) -> inputs_service_pb2.SingleInputCountResponse:
    with ctx.storage.read() as tx:
        by_status = tx.count_inputs_by_status(ctx.app)
    counts = inputs_pb2.InputCount(
        processed=by_status.get(status_code_pb2.INPUT_DOWNLOAD_SUCCESS, 0),
        to_process=by_status.get(status_code_pb2.INPUT_DOWNLOAD_PENDING, 0),
        errors=by_status.get(status_code_pb2.INPUT_DOWNLOAD_FAILED, 0),
        processing=by_status.get(status_code_pb2.INPUT_DOWNLOAD_IN_PROGRESS, 0),
    )
    return inputs_service_pb2.SingleInputCountResponse(counts=counts)
