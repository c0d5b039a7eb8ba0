"""Streaming handlers over stored state (run by :mod:`.streams` on both transports).

- ``StreamAnnotations`` / ``StreamLivestreamAnnotations``: the input's stored annotations, one
  per message, oldest first (``track_ids`` / ``min_prediction_score`` filter them); then the
  stream ends (a live stream of a stored input has nothing more to send).
- ``StreamLogEntries``: the stored log entries that fit the request, in one message, then the end.
- ``Post{Model,Artifact,PipelineStep}VersionsUpload`` (bidirectional): the first request's
  ``upload_config`` creates the version (answered with its id and ``bytes_remaining`` =
  ``total_size``); each ``content_part`` answers the bytes still missing; when none are, the
  version is stored as uploaded (model and pipeline-step versions then build one state per read).
- ``ProcessRunnerItems`` (bidirectional): the emulator hands runners no work; each request is
  validated and answered with an empty page of runner items.
- Any other streaming RPC: each request is validated as its unary form would be and answered
  with an empty message.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from google.protobuf import message_factory
from google.protobuf.message import Message

from ..proto.clarifai.api.status import status_code_pb2
from . import engine
from .computed import check_enums, check_route_ids
from .engine import API, CATALOGUE, V2, child_scope, message_class
from .ids import new_id
from .rpc_resources import matching_logs
from .statuses import ApiFailure, make_status, missing_code
from .streams import STREAM_HANDLERS, StreamContext, stream_rpc


def _annotations(sctx: StreamContext, req: Any) -> Iterator[Message]:
    ctx = sctx.resolve(req)
    if not req.input_id:
        raise ApiFailure(status_code_pb2.INPUT_INVALID_ARGUMENT, f"{sctx.rpc} needs 'input_id'")
    with ctx.storage.read() as tx:
        if not tx.existing_inputs(ctx.app, [req.input_id]):
            raise ApiFailure(status_code_pb2.INPUT_DOES_NOT_EXIST, f"input {req.input_id!r} does not exist")
        anns = list(reversed(tx.list_annotations(ctx.app, input_ids=[req.input_id])))
    tracks = set(getattr(req, "track_ids", []))
    floor = getattr(req, "min_prediction_score", 0.0)
    out_class = message_factory.GetMessageClass(V2.methods_by_name[sctx.rpc].output_type)
    for ann in anns:
        if tracks and not any(t.id in tracks for t in ann.data.tracks):
            continue
        if floor and ann.data.concepts and max(c.value for c in ann.data.concepts) < floor:
            continue
        msg = out_class()
        getattr(msg, "annotation").CopyFrom(ann)
        if "frame_fully_processed" in msg.DESCRIPTOR.fields_by_name:
            setattr(msg, "frame_fully_processed", True)
        yield msg


@stream_rpc("StreamAnnotations")
def stream_annotations(sctx: StreamContext, req: Any) -> Iterator[Message]:
    """The input's stored annotations, one per message."""
    yield from _annotations(sctx, req)


@stream_rpc("StreamLivestreamAnnotations")
def stream_livestream_annotations(sctx: StreamContext, req: Any) -> Iterator[Message]:
    """The input's stored annotations, one per message, then the end."""
    yield from _annotations(sctx, req)


@stream_rpc("StreamLogEntries", scope="user")
def stream_log_entries(sctx: StreamContext, req: Any) -> Iterator[Message]:
    """The stored log entries that fit the request, in one message."""
    ctx = sctx.resolve(req)
    out = message_class(API + "MultiLogEntryResponse")()
    getattr(out, "log_entries").extend(matching_logs(ctx, req))
    yield out


# (upload RPC, version kind, parent collection, config field naming the parent, config field with the version)
_UPLOADS = {
    "PostModelVersionsUpload": ("ModelVersion", "models", "model_id", "model_version"),
    "PostArtifactVersionsUpload": ("ArtifactVersion", "artifacts", "artifact_id", "artifact_version"),
    "PostPipelineStepVersionsUpload": ("PipelineStepVersion", "pipeline_steps", "pipeline_step_id", "pipeline_step_version"),
}


def _upload(sctx: StreamContext, requests: Iterator[Any]) -> Iterator[Message]:
    kind_name, parent, parent_field, version_field = _UPLOADS[sctx.rpc]
    kind = API + kind_name
    out_class = message_factory.GetMessageClass(V2.methods_by_name[sctx.rpc].output_type)
    id_field = next(f.name for f in out_class.DESCRIPTOR.fields if f.name.endswith("_version_id"))
    version: Message | None = None
    remaining = 0
    scope = ""
    for req in requests:
        if version is None:
            if not req.HasField("upload_config"):
                raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"the first {sctx.rpc} message must carry 'upload_config'")
            cfg = req.upload_config
            ctx = sctx.resolve(cfg)
            parent_id = getattr(cfg, parent_field)
            if not parent_id:
                raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"upload_config needs '{parent_field}'")
            scope = child_scope(ctx.app, parent, parent_id)
            with ctx.storage.write() as tx:
                parent_kind = CATALOGUE.kind_at("app", (parent,))
                if parent_kind and not engine.exists(tx, ctx, parent_kind, ctx.app, parent_id):
                    raise ApiFailure(missing_code(parent_kind), f"{parent} {parent_id!r} does not exist")
                version = copy.deepcopy(getattr(cfg, version_field))
                if not getattr(version, "id"):
                    setattr(version, "id", new_id())
                engine.stamp(version, created=True)
                holder = engine.status_holder(version)
                if holder is not None:
                    holder.CopyFrom(make_status(status_code_pb2.MODEL_UPLOADING if kind_name == "ModelVersion"
                                                else status_code_pb2.UPLOAD_IN_PROGRESS))
                remaining = int(cfg.total_size)
                tx.res_insert(kind, scope, getattr(version, "id"), version.SerializeToString())
        elif req.HasField("content_part"):
            remaining = max(0, remaining - len(req.content_part.data))
        else:
            raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"after the config, {sctx.rpc} takes 'content_part' messages")
        msg = out_class()
        setattr(msg, id_field, getattr(version, "id"))
        setattr(msg, "bytes_remaining", remaining)
        if remaining == 0:
            engine.start_progress(version)
            holder = engine.status_holder(version)
            if holder is not None and kind_name == "ArtifactVersion":
                holder.CopyFrom(make_status(status_code_pb2.UPLOAD_DONE))
            with sctx.dispatcher.storage.write() as tx:
                tx.res_update(kind, scope, getattr(version, "id"), version.SerializeToString())
        yield msg
        if remaining == 0:
            return


for _name in _UPLOADS:
    stream_rpc(_name, bidi=True)(_upload)


def _validate_each(sctx: StreamContext, requests: Iterator[Any]) -> Iterator[Message]:
    plan = CATALOGUE.plans[sctx.rpc]
    out_class = message_factory.GetMessageClass(V2.methods_by_name[sctx.rpc].output_type)
    for req in requests:
        ctx = sctx.resolve(req)
        check_enums(plan.kind or sctx.rpc, req)
        check_route_ids(ctx, plan, req)
        yield out_class()


@stream_rpc("ProcessRunnerItems", bidi=True, scope="user")
def process_runner_items(sctx: StreamContext, requests: Iterator[Any]) -> Iterator[Message]:
    """No work for runners: each request is answered with an empty page of runner items."""
    yield from _validate_each(sctx, requests)


def _one(sctx: StreamContext, req: Any) -> Iterator[Message]:
    yield from _validate_each(sctx, iter([req]))


# Every other streaming method of the service: validated, answered with an empty message.
for _method in V2.methods:
    if (_method.server_streaming or _method.client_streaming) and _method.name not in STREAM_HANDLERS:
        stream_rpc(_method.name, bidi=_method.client_streaming)(_validate_each if _method.client_streaming else _one)
