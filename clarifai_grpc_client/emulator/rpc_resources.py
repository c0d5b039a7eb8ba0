"""Special handlers around the generic engine: apps, stored models next to the built-in ones, jobs, uploads, counts.

These RPCs touch resources kept in their own tables (apps, inputs, concepts) or need more than
create/get/list/patch/delete:

- apps: PatchApp(s), PatchAppsIds (moves the app's content), PatchAppsDetails, DeleteApp (deletes
  the content), PostAppsSearches, PostAppDuplications (a job; the copy itself is not made);
- models: GetModel / ListModels / model versions also see the built-in models; stored models'
  ``languages`` / ``toolkits`` / ``use_cases`` / ``check_consents`` patches; (un)publishing sets
  the version's visibility;
- jobs: PostInputsUploads / PostInputsDataSources record inputs-add jobs (URLs are never fetched:
  the jobs progress and complete with nothing added); PutUploadContentParts counts received
  bytes until the upload is ``UPLOAD_DONE``; PutDatasetVersionExports records exports that
  progress one state per read of the version;
- counts and searches over what is stored: GetConceptCounts, GetResourceCounts,
  PostConceptsSearches, PostModelsSearches, ListAppKeys, PostLogEntries / ListLogEntries.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from google.protobuf.message import Message

from .. import proto as p
from ..proto.clarifai.api.status import status_code_pb2
from . import engine, patching
from .context import CallContext, page_bounds, rpc
from .engine import API, child_scope, message_class, parent_check
from .schema import Plan
from .ids import new_id, timestamp, valid_id
from .models import BUILTIN_MODELS
from .rpc_models import stored_models
from .statuses import ApiFailure, make_status
from .storage import Tx

MODEL = API + "Model"
MODEL_VERSION = API + "ModelVersion"
LOG_ENTRY = API + "LogEntry"


@parent_check("Input")
def _input_exists(tx: Tx, ctx: CallContext, scope: str, rid: str) -> bool:
    return bool(tx.existing_inputs(scope, [rid]))


@parent_check("Concept")
def _concept_exists(tx: Tx, ctx: CallContext, scope: str, rid: str) -> bool:
    return bool(tx.existing_concepts(scope, [rid]))


@parent_check("Model")
def _model_exists(tx: Tx, ctx: CallContext, scope: str, rid: str) -> bool:
    return rid in BUILTIN_MODELS or tx.res_get(MODEL, scope, rid) is not None


def _plan(name: str) -> Plan:
    return engine.CATALOGUE.plans[name]


# --- apps -------------------------------------------------------------------------------


def _patch_apps(ctx: CallContext, apps: list[p.App], action: str, user_id: str) -> list[p.App]:
    try:
        act = patching.check_action(action)
    except ValueError as exc:
        raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, str(exc)) from None
    out = []
    with ctx.storage.write() as tx:
        for given in apps:
            stored = tx.get_app(user_id, given.id)
            if stored is None:
                raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"app {given.id!r} does not exist; nothing was changed")
            new = patching.patch_message(stored, given, act)
            assert isinstance(new, p.App)
            new.modified_at.CopyFrom(timestamp())
            tx.update_app(new)
            out.append(new)
    return out


@rpc("PatchApps", scope="user")
def patch_apps(ctx: CallContext, req: p.PatchAppsRequest) -> p.MultiAppResponse:
    """Patch apps of the user (merge / overwrite / remove), all or nothing."""
    return p.MultiAppResponse(apps=_patch_apps(ctx, list(req.apps), req.action, ctx.user_id))


@rpc("PatchApp")
def patch_app(ctx: CallContext, req: p.PatchAppRequest) -> p.SingleAppResponse:
    """Patch the app the request names."""
    app = copy.deepcopy(req.app)
    app.id = ctx.app_id
    return p.SingleAppResponse(app=_patch_apps(ctx, [app], req.action, ctx.user_id)[0])


@rpc("PatchAppsDetails")
def patch_apps_details(ctx: CallContext, req: p.PatchAppsDetailsRequest) -> p.MultiAppResponse:
    """Patch app details (description, notes, image) of the user's apps."""
    return p.MultiAppResponse(apps=_patch_apps(ctx, list(req.apps), req.action, ctx.user_id))


@rpc("PatchAppsIds", scope="user")
def patch_apps_ids(ctx: CallContext, req: p.PatchAppsIdsRequest) -> p.MultiAppResponse:
    """Rename apps; everything in an app moves with it."""
    out = []
    with ctx.storage.write() as tx:
        for change in req.ids:
            if not valid_id(change.new_id):
                raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"new app id {change.new_id!r} is not valid")
            app = tx.get_app(ctx.user_id, change.id)
            if app is None:
                raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"app {change.id!r} does not exist; nothing was renamed")
            if tx.get_app(ctx.user_id, change.new_id) is not None:
                raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"app {change.new_id!r} already exists")
            app.id = change.new_id
            app.modified_at.CopyFrom(timestamp())
            tx.update_app(app, old_id=change.id)
            out.append(app)
    return p.MultiAppResponse(apps=out)


@rpc("DeleteApp")
def delete_app(ctx: CallContext, req: p.DeleteAppRequest) -> p.BaseResponse:
    """Delete the app and everything in it."""
    with ctx.storage.write() as tx:
        tx.delete_app(ctx.user_id, ctx.app_id)
    return p.BaseResponse()


@rpc("PostAppsSearches", scope="user")
def post_apps_searches(ctx: CallContext, req: p.PostAppsSearchesRequest) -> p.MultiAppResponse:
    """The user's apps whose id or name contains the query's name."""
    with ctx.storage.read() as tx:
        apps = tx.list_apps(ctx.user_id)
    text = req.app_query.name.lower()
    found = [a for a in apps if text in a.id.lower() or text in a.name.lower()]
    offset, limit = page_bounds(req.pagination.page, req.pagination.per_page)
    return p.MultiAppResponse(apps=found[offset:offset + limit])


@rpc("PostAppDuplications")
def post_app_duplications(ctx: CallContext, req: p.PostAppDuplicationsRequest) -> p.MultiAppDuplicationsResponse:
    """Record app duplication jobs under the user; they progress to success (the copy is not made)."""
    if not len(req.app_duplications):
        raise ApiFailure(status_code_pb2.APP_DUPLICATION_INVALID_REQUEST, "PostAppDuplications needs app_duplications")
    out = []
    with ctx.storage.write() as tx:
        for given in req.app_duplications:
            dup = copy.deepcopy(given)
            dup.id = dup.id or new_id()
            dup.existing_app_id = ctx.app_id
            engine.stamp(dup, created=True)
            engine.start_progress(dup)
            tx.res_insert(API + "AppDuplication", ctx.user_id, dup.id, dup.SerializeToString())
            out.append(dup)
    return p.MultiAppDuplicationsResponse(app_duplications=out)


# --- models -----------------------------------------------------------------------------


def _field_patch(field: str, response: type[Message]) -> Callable[[CallContext, Message], Message]:
    def handle(ctx: CallContext, req: Message) -> Message:
        model_id = getattr(req, "model_id")
        action = patching.check_action(getattr(req, "action"), ("merge", "overwrite", "remove"))
        given = list(getattr(req, field))
        with ctx.storage.write() as tx:
            blob = tx.res_get(MODEL, ctx.app, model_id)
            if blob is None:
                raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model {model_id!r} does not exist in app {ctx.app_id!r}")
            model = p.Model.FromString(blob)
            target = "use_cases" if field == "usecases" else field
            current = list(getattr(model, target))
            values = given if action == "overwrite" else ([v for v in current if v not in given] if action == "remove"
                                                          else current + [v for v in given if v not in current])
            del getattr(model, target)[:]
            getattr(model, target).extend(values)
            model.modified_at.CopyFrom(timestamp())
            tx.res_update(MODEL, ctx.app, model_id, model.SerializeToString())
        out = response()
        getattr(out, field).extend(values)
        return out

    handle.__doc__ = f"Patch a stored model's {field} (merge / overwrite / remove)."
    return handle


for _rpc, _field, _resp in (("PatchModelLanguages", "languages", p.MultiModelLanguageResponse),
                            ("PatchModelToolkits", "toolkits", p.MultiModelToolkitResponse),
                            ("PatchModelUseCases", "usecases", p.MultiModelUseCaseResponse),
                            ("PatchModelCheckConsents", "check_consents", p.MultiModelCheckConsentResponse)):
    rpc(_rpc)(_field_patch(_field, _resp))


def _set_version_visibility(ctx: CallContext, kind: str, parent: str, parent_id: str, version_ids: list[str],
                            gettable: int, missing: int) -> None:
    scope = child_scope(ctx.app, parent, parent_id)
    with ctx.storage.write() as tx:
        for vid in version_ids:
            blob = tx.res_get(kind, scope, vid)
            if blob is None:
                raise ApiFailure(missing, f"version {vid!r} of {parent_id!r} does not exist; nothing was changed")
            msg = message_class(kind).FromString(blob)
            getattr(msg, "visibility").gettable = gettable
            engine.stamp(msg, created=False)
            tx.res_update(kind, scope, vid, msg.SerializeToString())


@rpc("PostModelVersionsPublish")
def post_model_versions_publish(ctx: CallContext, req: p.PostModelVersionsPublishRequest) -> p.BaseResponse:
    """Make model versions public (visibility PUBLIC)."""
    _set_version_visibility(ctx, MODEL_VERSION, "models", req.model_id, [x.version_id for x in req.publications],
                            p.Visibility.PUBLIC, status_code_pb2.MODEL_DOES_NOT_EXIST)
    return p.BaseResponse()


@rpc("PostModelVersionsUnPublish")
def post_model_versions_unpublish(ctx: CallContext, req: p.PostModelVersionsUnPublishRequest) -> p.BaseResponse:
    """Make model versions private again."""
    _set_version_visibility(ctx, MODEL_VERSION, "models", req.model_id, [x.version_id for x in req.publications],
                            p.Visibility.PRIVATE, status_code_pb2.MODEL_DOES_NOT_EXIST)
    return p.BaseResponse()


@rpc("PostWorkflowVersionsPublish")
def post_workflow_versions_publish(ctx: CallContext, req: p.PostWorkflowVersionsPublishRequest) -> p.BaseResponse:
    """Make workflow versions public."""
    _set_version_visibility(ctx, API + "WorkflowVersion", "workflows", req.workflow_id,
                            [x.version_id for x in req.publications], p.Visibility.PUBLIC, status_code_pb2.WORKFLOW_DOES_NOT_EXIST)
    return p.BaseResponse()


@rpc("PostWorkflowVersionsUnPublish")
def post_workflow_versions_unpublish(ctx: CallContext, req: p.PostWorkflowVersionsUnPublishRequest) -> p.BaseResponse:
    """Make workflow versions private again."""
    _set_version_visibility(ctx, API + "WorkflowVersion", "workflows", req.workflow_id,
                            [x.version_id for x in req.publications], p.Visibility.PRIVATE, status_code_pb2.WORKFLOW_DOES_NOT_EXIST)
    return p.BaseResponse()


@rpc("PostModelsSearches")
def post_models_searches(ctx: CallContext, req: p.PostModelsSearchesRequest) -> p.MultiModelResponse:
    """Built-in and stored models whose id or name contains the query's name (and of its model type)."""
    models = [m.message() for m in BUILTIN_MODELS.values()] + stored_models(ctx)
    q = req.model_query
    found = [m for m in models if q.name.lower() in m.id.lower() or q.name.lower() in m.name.lower()]
    if q.model_type_id:
        found = [m for m in found if m.model_type_id == q.model_type_id]
    offset, limit = page_bounds(req.pagination.page, req.pagination.per_page)
    return p.MultiModelResponse(models=found[offset:offset + limit])


# --- concepts, counts ---------------------------------------------------------------------


@rpc("PostConceptsSearches")
def post_concepts_searches(ctx: CallContext, req: p.PostConceptsSearchesRequest) -> p.MultiConceptResponse:
    """The app's concepts whose id or name contains the query's name."""
    text = req.concept_query.name.lower()
    with ctx.storage.read() as tx:
        concepts = tx.list_concepts(ctx.app)
    found = [c for c in concepts if text in c.id.lower() or text in c.name.lower()]
    offset, limit = page_bounds(req.pagination.page, req.pagination.per_page)
    return p.MultiConceptResponse(concepts=found[offset:offset + limit])


@rpc("GetConceptCounts")
def get_concept_counts(ctx: CallContext, req: p.GetConceptCountsRequest) -> p.MultiConceptCountResponse:
    """Per concept, how many inputs are labelled with it (positive) or against it (negative)."""
    with ctx.storage.read() as tx:
        labels = tx.concept_labels(ctx.app)
        concepts = {c.id: c for c in tx.list_concepts(ctx.app)}
    counts: dict[str, list[int]] = {}
    for per_input in labels.values():
        for cid, value in per_input.items():
            pos_neg = counts.setdefault(cid, [0, 0])
            pos_neg[0 if value > 0 else 1] += 1
    out = [p.ConceptCount(id=cid, name=concepts[cid].name if cid in concepts else cid,
                          concept_type_count=p.ConceptTypeCount(positive=pos, negative=neg))
           for cid, (pos, neg) in sorted(counts.items())]
    offset, limit = page_bounds(req.page, req.per_page)
    return p.MultiConceptCountResponse(concept_counts=out[offset:offset + limit])


@rpc("GetResourceCounts")
def get_resource_counts(ctx: CallContext, req: p.GetResourceCountsRequest) -> p.GetResourceCountsResponse:
    """How many datasets, inputs, models, workflows and pipelines the app holds."""
    with ctx.storage.read() as tx:
        inputs = sum(tx.count_inputs_by_status(ctx.app).values())
        n = {k: tx.res_count(API + k, ctx.app) for k in ("Dataset", "Model", "Workflow", "Pipeline")}
    return p.GetResourceCountsResponse(datasets=n["Dataset"], inputs=inputs, models=n["Model"] + len(BUILTIN_MODELS),
                                       workflows=n["Workflow"], pipelines=n["Pipeline"])


@rpc("ListAppKeys")
def list_app_keys(ctx: CallContext, req: p.ListAppKeysRequest) -> p.MultiKeyResponse:
    """The user's stored keys that name this app (or no app)."""
    with ctx.storage.read() as tx:
        keys = [p.Key.FromString(b) for _, b in tx.res_list(API + "Key", ctx.user_id)]
    found = [k for k in keys if not len(k.apps) or any(a.id == ctx.app_id for a in k.apps)]
    offset, limit = page_bounds(req.page, req.per_page)
    return p.MultiKeyResponse(keys=found[offset:offset + limit])


# --- jobs and uploads ----------------------------------------------------------------------


def _add_jobs(ctx: CallContext, sources: list[Message]) -> list[p.InputsAddJob]:
    if not sources:
        raise ApiFailure(status_code_pb2.INPUT_INVALID_REQUEST, "give at least one source of inputs")
    out = []
    with ctx.storage.write() as tx:
        for src in sources:
            job = p.InputsAddJob(id=getattr(src, "inputs_add_job_id") or new_id())
            if tx.res_get(API + "InputsAddJob", ctx.app, job.id) is not None:
                raise ApiFailure(status_code_pb2.DATABASE_DUPLICATE_KEY, f"inputs-add job {job.id!r} already exists")
            engine.stamp(job, created=True)
            engine.start_progress(job)
            tx.res_insert(API + "InputsAddJob", ctx.app, job.id, job.SerializeToString())
            out.append(job)
    return out


@rpc("PostInputsUploads")
def post_inputs_uploads(ctx: CallContext, req: p.PostInputsUploadsRequest) -> p.MultiInputsAddJobResponse:
    """Record an inputs-add job per upload; it progresses one state per read (nothing is extracted)."""
    return p.MultiInputsAddJobResponse(inputs_add_jobs=_add_jobs(ctx, list(req.inputs_uploads)))


@rpc("PostInputsDataSources")
def post_inputs_data_sources(ctx: CallContext, req: p.PostInputsDataSourcesRequest) -> p.MultiInputsAddJobResponse:
    """Record an inputs-add job per data source; URLs are never fetched."""
    return p.MultiInputsAddJobResponse(inputs_add_jobs=_add_jobs(ctx, list(req.data_sources)))


@rpc("PutUploadContentParts")
def put_upload_content_parts(ctx: CallContext, req: p.PutUploadContentPartsRequest) -> p.SingleUploadResponse:
    """Count the parts' bytes into the upload; once ``content_length`` bytes arrived it is UPLOAD_DONE."""
    if not req.upload_id:
        raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, "PutUploadContentParts needs 'upload_id'")
    with ctx.storage.write() as tx:
        blob = tx.res_get(API + "Upload", ctx.app, req.upload_id)
        if blob is None:
            raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"upload {req.upload_id!r} does not exist")
        up = p.Upload.FromString(blob)
        if up.status.code == status_code_pb2.UPLOAD_DONE:
            return p.SingleUploadResponse(upload=up)
        seen = {int(k): int(v) for k, v in up.status.details and [x.split(":") for x in up.status.details.split(",")] or []}
        for part in req.content_parts:
            seen[part.part_number] = len(part.data)
        received = sum(seen.values())
        done = up.content_length and received >= up.content_length
        up.status.CopyFrom(make_status(status_code_pb2.UPLOAD_DONE if done else status_code_pb2.UPLOAD_IN_PROGRESS,
                                       ",".join(f"{k}:{v}" for k, v in sorted(seen.items()))))
        up.modified_at.CopyFrom(timestamp())
        tx.res_update(API + "Upload", ctx.app, up.id, up.SerializeToString())
    return p.SingleUploadResponse(upload=up)


@rpc("PutDatasetVersionExports")
def put_dataset_version_exports(ctx: CallContext, req: p.PutDatasetVersionExportsRequest) -> p.MultiDatasetVersionExportResponse:
    """Start exports of a dataset version; each is PENDING, IN_PROGRESS, then SUCCESS, one state per call."""
    scope = child_scope(ctx.app, "datasets", req.dataset_id)
    kind = API + "DatasetVersion"
    if not len(req.exports):
        raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, "PutDatasetVersionExports needs exports")
    states = (status_code_pb2.DATASET_VERSION_EXPORT_PENDING, status_code_pb2.DATASET_VERSION_EXPORT_IN_PROGRESS,
              status_code_pb2.DATASET_VERSION_EXPORT_SUCCESS)
    out = []
    with ctx.storage.write() as tx:
        blob = tx.res_get(kind, scope, req.dataset_version_id)
        if blob is None:
            raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"dataset version {req.dataset_version_id!r} of dataset "
                             f"{req.dataset_id!r} does not exist")
        version = p.DatasetVersion.FromString(blob)
        names = {p.DatasetVersionExportFormat.Value(n.upper()): n for n in ("clarifai_data_protobuf", "clarifai_data_json", "coco")}
        for given in req.exports:
            slot_name = names.get(given.format)
            if slot_name is None:
                raise ApiFailure(status_code_pb2.CONN_INVALID_REQUEST, f"unknown export format {given.format}")
            slot = getattr(version.export_info, slot_name)
            if slot.status.code in states[:2]:
                slot.status.CopyFrom(make_status(states[states.index(slot.status.code) + 1]))
            elif slot.status.code != states[2]:
                slot.CopyFrom(given)
                slot.status.CopyFrom(make_status(states[0]))
            if slot.status.code == states[2] and not slot.url:
                slot.url = f"emulator://exports/{ctx.app}/{req.dataset_id}/{req.dataset_version_id}/{slot_name}.zip"
            out.append(copy.deepcopy(slot))
        tx.res_update(kind, scope, req.dataset_version_id, version.SerializeToString())
    return p.MultiDatasetVersionExportResponse(exports=out)


# --- log entries -----------------------------------------------------------------------------

_LOG_FILTERS = ("compute_cluster_id", "nodepool_id", "runner_id", "model_id", "model_version_id", "workflow_id",
                "pipeline_id", "pipeline_version_id", "pipeline_version_run_id", "pipeline_step_id", "pipeline_step_version_id")


@rpc("PostLogEntries", scope="none")
def post_log_entries(ctx: CallContext, req: Message) -> Message:
    """Store log entries (kept per user; ``log_type`` and ``meta`` say where they belong)."""
    entries = list(getattr(req, "log_entries"))
    if not entries:
        raise ApiFailure(status_code_pb2.LOG_ENTRIES_INVALID_REQUEST, "PostLogEntries needs log_entries")
    with ctx.storage.write() as tx:
        for entry in entries:
            tx.res_insert(LOG_ENTRY, ctx.principal.user_id, new_id(), entry.SerializeToString())
    return p.BaseResponse()


def matching_logs(ctx: CallContext, req: Message) -> list[Message]:
    """The stored log entries of the caller that fit the request's log type and ids, oldest first."""
    cls = message_class(LOG_ENTRY)
    with ctx.storage.read() as tx:
        entries = [cls.FromString(b) for _, b in tx.res_list(LOG_ENTRY, ctx.principal.user_id, newest_first=False)]
    log_type = getattr(req, "log_type")
    out = []
    for e in entries:
        if log_type and getattr(e, "log_type") != log_type:
            continue
        meta = getattr(e, "meta")
        if all(not getattr(req, f) or getattr(meta, f) == getattr(req, f) for f in _LOG_FILTERS
               if f in req.DESCRIPTOR.fields_by_name and f in meta.DESCRIPTOR.fields_by_name):
            out.append(e)
    return out


@rpc("ListLogEntries", scope="user")
def list_log_entries(ctx: CallContext, req: Message) -> Message:
    """The stored log entries that fit the request, oldest first, paged."""
    offset, limit = page_bounds(getattr(req, "page"), getattr(req, "per_page"))
    out = message_class(API + "MultiLogEntryResponse")()
    getattr(out, "log_entries").extend(matching_logs(ctx, req)[offset:offset + limit])
    return out


# --- stored models next to the built-in ones --------------------------------------------------


def builtin_version(model_id: str) -> p.ModelVersion | None:
    model = BUILTIN_MODELS.get(model_id)
    if model is None:
        return None
    version = p.ModelVersion()
    version.CopyFrom(model.message().model_version)
    return version


@rpc("GetModelVersion")
def get_model_version(ctx: CallContext, req: p.GetModelVersionRequest) -> p.SingleModelVersionResponse:
    """A version of a stored model, or the one version of a built-in model."""
    builtin = builtin_version(req.model_id)
    if builtin is not None:
        if req.version_id != builtin.id:
            raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model {req.model_id!r} has no version {req.version_id!r}")
        return p.SingleModelVersionResponse(model_version=builtin)
    out = engine.op_get(ctx, _plan("GetModelVersion"), req)
    assert isinstance(out, p.SingleModelVersionResponse)
    return out


@rpc("ListModelVersions")
def list_model_versions(ctx: CallContext, req: p.ListModelVersionsRequest) -> p.MultiModelVersionResponse:
    """The versions of a stored model, newest first; a built-in model's one version."""
    builtin = builtin_version(req.model_id)
    if builtin is not None:
        return p.MultiModelVersionResponse(model_versions=[builtin] if max(req.page, 1) == 1 else [])
    out = engine.op_list(ctx, _plan("ListModelVersions"), req)
    assert isinstance(out, p.MultiModelVersionResponse)
    return out


@rpc("ListModelConcepts")
def list_model_concepts(ctx: CallContext, req: p.ListModelConceptsRequest) -> p.MultiConceptResponse:
    """The concepts a built-in or stored model outputs (its output_info), filtered by ``search``."""
    builtin = BUILTIN_MODELS.get(req.model_id)
    model = builtin.message() if builtin is not None else None
    if model is None:
        with ctx.storage.read() as tx:
            blob = tx.res_get(MODEL, ctx.app, req.model_id)
        if blob is None:
            raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model {req.model_id!r} does not exist in app {ctx.app_id!r}")
        model = p.Model.FromString(blob)
    concepts = list(model.output_info.data.concepts) or list(model.model_version.output_info.data.concepts)
    if req.search:
        concepts = [c for c in concepts if req.search.lower() in (c.id + " " + c.name).lower()]
    offset, limit = page_bounds(req.page, req.per_page)
    return p.MultiConceptResponse(concepts=concepts[offset:offset + limit])


def _app_inputs(ctx: CallContext, page: int, per_page: int) -> list[p.Input]:
    offset, limit = page_bounds(page, per_page)
    with ctx.storage.read() as tx:
        return tx.list_inputs(ctx.app, offset=offset, limit=limit)


@rpc("ListModelInputs")
def list_model_inputs(ctx: CallContext, req: p.ListModelInputsRequest) -> p.MultiInputResponse:
    """The app's inputs (what a model of the app would train on), newest first."""
    if req.model_id not in BUILTIN_MODELS and stored_model_exists(ctx, req.model_id) is False:
        raise ApiFailure(status_code_pb2.MODEL_DOES_NOT_EXIST, f"model {req.model_id!r} does not exist in app {ctx.app_id!r}")
    return p.MultiInputResponse(inputs=_app_inputs(ctx, req.page, req.per_page))


@rpc("ListNextTaskAssignments")
def list_next_task_assignments(ctx: CallContext, req: p.ListNextTaskAssignmentsRequest) -> p.MultiInputResponse:
    """The app's inputs, oldest first, as the next work of the task (at most 10)."""
    with ctx.storage.read() as tx:
        if tx.res_get(API + "Task", ctx.app, req.task_id) is None:
            raise ApiFailure(status_code_pb2.TASK_MISSING, f"task {req.task_id!r} does not exist")
        inputs = tx.list_inputs(ctx.app, offset=0, limit=-1)
    return p.MultiInputResponse(inputs=list(reversed(inputs))[:10])


def stored_model_exists(ctx: CallContext, model_id: str) -> bool:
    with ctx.storage.read() as tx:
        return tx.res_get(MODEL, ctx.app, model_id) is not None
