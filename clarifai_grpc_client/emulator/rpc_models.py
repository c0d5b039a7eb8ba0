"""Handlers for the built-in models: ListModels, GetModel, GetModelOutputInfo, PostModelOutputs.

The built-in models (see :mod:`.models`) belong to the public app ``clarifai/main`` and can be
reached from any app of the caller too, so requests naming either work.
"""

from __future__ import annotations

import copy

from ..proto.clarifai.api import core_pb2, model_config_pb2, models_service_pb2
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from .auth import PUBLIC_USER_ID
from .context import CallContext, page_bounds, rpc
from .ids import new_id, timestamp
from .models import BUILTIN_MODELS, BuiltinModel, PredictionError, content_of
from .statuses import ApiFailure, make_status

MAX_INPUTS = 128
MODEL_KIND = "clarifai.api.Model"


def find_model(model_id: str, version_id: str = "") -> BuiltinModel:
    model = BUILTIN_MODELS.get(model_id)
    if model is None:
        raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST,
                         f"model {model_id!r} does not exist; the emulator's models are: {', '.join(BUILTIN_MODELS)}")
    if version_id and version_id != model.version_id:
        raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model {model_id!r} has no version {version_id!r} "
                         f"(its only version is {model.version_id})")
    return model


def overall_status(statuses: list[status_pb2.Status]) -> status_pb2.Status:
    """SUCCESS when every item succeeded, FAILURE when none did, MIXED_STATUS otherwise."""
    good = sum(1 for s in statuses if s.code == status_code_pb2.SUCCESS)
    mixed = sum(1 for s in statuses if s.code == status_code_pb2.MIXED_STATUS)
    if good == len(statuses):
        return make_status(status_code_pb2.SUCCESS)
    if good == 0 and mixed == 0:
        first = statuses[0]
        return make_status(status_code_pb2.FAILURE, f"every input failed; the first: {first.description}: {first.details}")
    return make_status(status_code_pb2.MIXED_STATUS, f"{len(statuses) - good} of {len(statuses)} items did not fully succeed")


def predict(model: BuiltinModel, inp: core_pb2.Input, cfg: model_config_pb2.OutputConfig,
            model_msg: core_pb2.Model | None = None) -> core_pb2.Output:
    """One Output for one input: the model's data, or a failing per-output status."""
    out = core_pb2.Output(id=new_id(), created_at=timestamp(), input=inp)
    out.model.CopyFrom(model_msg if model_msg is not None else model.message())
    try:
        out.data.CopyFrom(model.run(inp.data, cfg))
        out.status.CopyFrom(make_status(status_code_pb2.SUCCESS))
    except PredictionError as err:
        out.status.CopyFrom(make_status(err.code, err.details))
    return out


def resolve_inputs(ctx: CallContext, inputs: list[core_pb2.Input]) -> list[core_pb2.Input]:
    """Inputs given only by id are read from the caller's app, so stored inputs can be predicted on."""
    wanted = [i.id for i in inputs if i.id and not content_of(i.data).kind]
    if not wanted or ctx.user_id == PUBLIC_USER_ID:
        return inputs
    with ctx.storage.read() as tx:
        stored = tx.get_inputs(ctx.app, wanted)
    return [stored.get(i.id, i) if i.id in wanted else i for i in inputs]


def stored_models(ctx: CallContext) -> list[core_pb2.Model]:
    """The models the app stores (PostModels), newest first; none in the public app."""
    if ctx.user_id == PUBLIC_USER_ID:
        return []
    with ctx.storage.read() as tx:
        return [core_pb2.Model.FromString(b) for _, b in tx.res_list(MODEL_KIND, ctx.app)]


def stored_model(ctx: CallContext, model_id: str) -> core_pb2.Model | None:
    if ctx.user_id == PUBLIC_USER_ID:
        return None
    with ctx.storage.read() as tx:
        blob = tx.res_get(MODEL_KIND, ctx.app, model_id)
    return core_pb2.Model.FromString(blob) if blob is not None else None


@rpc("ListModels")
def list_models(ctx: CallContext, req: models_service_pb2.ListModelsRequest) -> models_service_pb2.MultiModelResponse:
    """The built-in models and the app's stored ones."""
    found = [m.message() for m in BUILTIN_MODELS.values()] + stored_models(ctx)
    for text in (req.name, req.query, req.search):
        if text:
            found = [m for m in found if text.lower() in m.id.lower() or text.lower() in m.name.lower()]
    if req.model_type_id:
        found = [m for m in found if m.model_type_id == req.model_type_id]
    if len(req.model_version_ids):
        found = [m for m in found if m.model_version.id in set(req.model_version_ids)]
    found.sort(key=lambda m: m.id if req.sort_by_name else m.created_at.ToNanoseconds(), reverse=not req.sort_ascending)
    offset, limit = page_bounds(req.page, req.per_page)
    return models_service_pb2.MultiModelResponse(models=found[offset:offset + limit])


@rpc("GetModel")
def get_model(ctx: CallContext, req: models_service_pb2.GetModelRequest) -> models_service_pb2.SingleModelResponse:
    """A built-in model, or one the app stores."""
    stored = stored_model(ctx, req.model_id) if req.model_id not in BUILTIN_MODELS else None
    if stored is not None:
        return models_service_pb2.SingleModelResponse(model=stored)
    return models_service_pb2.SingleModelResponse(model=find_model(req.model_id, req.version_id).message())


@rpc("GetModelOutputInfo")
def get_model_output_info(ctx: CallContext, req: models_service_pb2.GetModelRequest) -> models_service_pb2.SingleModelResponse:
    return models_service_pb2.SingleModelResponse(model=find_model(req.model_id, req.version_id).message())


@rpc("PostModelOutputs")
def post_model_outputs(ctx: CallContext, req: models_service_pb2.PostModelOutputsRequest) -> models_service_pb2.MultiOutputResponse:
    model = find_model(req.model_id or req.model.id, req.version_id or req.model.model_version.id)
    if not len(req.inputs):
        raise ApiFailure(status_code_pb2.PREDICT_INVALID_REQUEST, "PostModelOutputs needs at least one input")
    if len(req.inputs) > MAX_INPUTS:
        raise ApiFailure(status_code_pb2.INPUT_OVER_LIMIT, f"{len(req.inputs)} inputs; at most {MAX_INPUTS} per request")
    cfg = req.model.output_info.output_config
    msg = model.message()
    outputs = [predict(model, inp, cfg, msg) for inp in resolve_inputs(ctx, [copy.deepcopy(i) for i in req.inputs])]
    resp = models_service_pb2.MultiOutputResponse(outputs=outputs)
    resp.status.CopyFrom(overall_status([o.status for o in outputs]))
    return resp
