"""Lifecycle of every resource family the generic engine serves, over gRPC and HTTP, generated from its plans.

For each collection (datasets, dataset versions, compute clusters, nodepools, runners, pipelines,
secrets, tasks, ...): its parents are created first, then as many of these steps as the family
has RPCs for: create (caller ids and a generated one) -> duplicate refused -> get, and a missing
id -> list in pages -> patch with each action -> rename -> delete, then gone -> a missing parent
refused, and a sibling parent's scope empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message

from clarifai_grpc_client import _transcoding
from clarifai_grpc_client._status import code_name
from clarifai_grpc_client.emulator.context import HANDLERS
from clarifai_grpc_client.emulator.dispatch import V2
from clarifai_grpc_client.emulator.engine import CATALOGUE, message_class
from clarifai_grpc_client.emulator.schema import Collection, Plan, id_path
from clarifai_grpc_client import proto as p

from .conftest import SC, GrpcApi, HttpApi
from clarifai_grpc_client._protobuf_compat import is_repeated

_TEXT_FIELDS = ("description", "name", "notes")
APP = p.UserAppIDSet(user_id="me", app_id="main")


@dataclass
class Family:
    collection: Collection
    plans: dict[str, Plan]

    @property
    def name(self) -> str:
        return f"{self.collection.owner}:{self.collection.label}"


def families() -> list[Family]:
    found: dict[Collection, dict[str, Plan]] = {}
    for name, plan in CATALOGUE.plans.items():
        if plan.stored and plan.collection is not None and name not in HANDLERS:
            found.setdefault(plan.collection, {})[plan.operation] = plan
    out = []
    for col, plans in found.items():
        kind = message_class(col.kind).DESCRIPTOR
        if "create" in plans and ("get" in plans or "list" in plans) and id_path(kind) == "id":
            out.append(Family(col, plans))
    return sorted(out, key=lambda f: f.name)


FAMILIES = families()
COVERED_TRANSPORTS = ("grpc", "http")
COVERED_RPCS = frozenset(p.rpc for f in FAMILIES for p in f.plans.values())


@pytest.fixture(scope="module")
def api(module_api: GrpcApi | HttpApi) -> GrpcApi | HttpApi:
    return module_api


def request_of(rpc: str) -> Message:
    """An empty request naming the caller's default app (so every HTTP route of it can be filled)."""
    req = message_factory.GetMessageClass(V2.methods_by_name[rpc].input_type)()
    if "user_app_id" in req.DESCRIPTOR.fields_by_name:
        req.user_app_id.user_id, req.user_app_id.app_id = "me", "main"  # type: ignore[attr-defined]
    return req


def same_route(a: Plan, b: Plan) -> bool:
    rules = _transcoding.service_rules(V2)
    first = [(x.verb, x.path.template) for x in rules[f"/{V2.full_name}/{a.rpc}"].bindings]
    second = [(x.verb, x.path.template) for x in rules[f"/{V2.full_name}/{b.rpc}"].bindings]
    return first[0] == second[0]


def paged(req: Message, page: int, per_page: int = 2) -> Message:
    req.page, req.per_page = page, per_page  # type: ignore[attr-defined]
    return req


def with_parents(req: Message, plan: Plan, parents: list[str]) -> Message:
    for field, value in zip(plan.parent_fields, parents):
        _transcoding.set_field(req, field, value)
    return req


def make_item(kind: str, rid: str) -> Message:
    item = message_class(kind)()
    item.id = rid  # type: ignore[attr-defined]
    return item


def create(api: Any, plan: Plan, parents: list[str], ids: list[str]) -> Any:
    req = with_parents(request_of(plan.rpc), plan, parents)
    field = req.DESCRIPTOR.fields_by_name[plan.request_field]
    if is_repeated(field):
        getattr(req, plan.request_field).extend(make_item(plan.kind, i) for i in ids)
    else:
        getattr(req, plan.request_field).CopyFrom(make_item(plan.kind, ids[0]))
    return api.call(plan.rpc, req)


def create_plan_of(col: Collection) -> Plan | None:
    return next((p for p in CATALOGUE.plans.values() if p.operation == "create" and p.collection == col), None)


def create_parents(api: Any, col: Collection, tag: str) -> list[str]:
    """Create each parent of ``col`` (outermost first) and return their ids.

    A parent no RPC creates on its own (a pipeline's version) is created nested in its parent.
    """
    stars = [i for i, s in enumerate(col.shape) if s == "*"]
    cols = [CATALOGUE.collections[(col.owner, col.shape[:i])] for i in stars]
    pids = [f"{tag}-{col.shape[i - 1]}" for i in stars]
    for n, parent_col in enumerate(cols):
        pid = pids[n]
        if parent_col.kind == "clarifai.api.Input":
            r = api.call("PostInputs", p.PostInputsRequest(inputs=[p.Input(id=pid, data=p.Data(text=p.Text(raw="parent")))]))
        elif parent_col.kind == "clarifai.api.Concept":
            r = api.call("PostConcepts", p.PostConceptsRequest(concepts=[p.Concept(id=pid)]))
        elif parent_col.kind == "clarifai.api.Workflow":
            r = api.call("PostWorkflows", p.PostWorkflowsRequest(workflows=[p.Workflow(id=pid, nodes=[
                p.WorkflowNode(id="kw", model=p.Model(id="text-keywords"))])]))
            if n + 1 < len(cols):  # the workflow's first version, made with it
                pids[n + 1] = r.msg.workflows[0].version.id
        else:
            plan = create_plan_of(parent_col)
            if plan is None:
                continue  # created nested in its parent, below
            req = with_parents(request_of(plan.rpc), plan, pids[:n])
            item = make_item(plan.kind, pid)
            if n + 1 < len(cols) and create_plan_of(cols[n + 1]) is None:
                nested = CATALOGUE.nested_field(plan.kind, cols[n + 1].kind)
                getattr(item, nested).id = pids[n + 1]
            getattr(req, plan.request_field).append(item)
            r = api.call(plan.rpc, req)
        assert r.code == SC.SUCCESS, (parent_col.label, r.msg.status)
    return pids


def ids_of(resp: Any, plan: Plan) -> list[str]:
    value = getattr(resp.msg, plan.response_field)
    items = list(value) if plan.response_repeated else [value]
    return [i.id for i in items]


def set_ids(req: Message, plan: Plan, rid: str) -> Message:
    if plan.ids_field:
        getattr(req, plan.ids_field).append(rid)
    else:
        _transcoding.set_field(req, plan.item_field, rid)
    return req


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_lifecycle(api: Any, family: Family) -> None:
    plans, col = family.plans, family.collection
    tag = re.sub(r"[^a-z0-9]", "", f"{api.name}{family.name}")[:40]
    parents = create_parents(api, col, tag)
    create_plan = plans["create"]
    multi = is_repeated(request_of(create_plan.rpc).DESCRIPTOR.fields_by_name[create_plan.request_field])
    wanted = [f"{tag}-a", f"{tag}-b", f"{tag}-c"] if multi else [f"{tag}-a"]

    made = create(api, create_plan, parents, wanted)
    assert made.code == SC.SUCCESS, made.msg.status
    if not multi:
        for extra in (f"{tag}-b", f"{tag}-c"):
            assert create(api, create_plan, parents, [extra]).code == SC.SUCCESS
    generated = create(api, create_plan, parents, [""])
    assert generated.code == SC.SUCCESS, generated.msg.status
    gen_ids = ids_of(generated, create_plan) if create_plan.response_field else []
    if gen_ids and generated.msg.DESCRIPTOR.fields_by_name[create_plan.response_field].message_type.full_name == col.kind:
        assert re.fullmatch(r"[0-9a-f]{32}", gen_ids[0]), gen_ids

    dup = create(api, create_plan, parents, [f"{tag}-a"])
    assert "DUPLICATE" in code_name(dup.code), dup.msg.status
    assert dup.http_status in (None, 409)

    if "get" in plans:
        g = plans["get"]
        got = api.call(g.rpc, with_parents(set_ids(request_of(g.rpc), g, f"{tag}-a"), g, parents))
        assert got.code == SC.SUCCESS and getattr(got.msg, g.response_field).id == f"{tag}-a", got.msg.status
        item = getattr(got.msg, g.response_field)
        if "created_at" in item.DESCRIPTOR.fields_by_name:
            assert item.HasField("created_at")
        missing = api.call(g.rpc, with_parents(set_ids(request_of(g.rpc), g, "nope"), g, parents))
        assert code_name(missing.code).endswith("DOES_NOT_EXIST") and missing.http_status in (None, 404), missing.msg.status

    if "list" in plans:
        ls = plans["list"]
        if ls.paginated:
            first = api.call(ls.rpc, with_parents(paged(request_of(ls.rpc), 1), ls, parents))
            second = api.call(ls.rpc, with_parents(paged(request_of(ls.rpc), 2), ls, parents))
            assert first.code == SC.SUCCESS and second.code == SC.SUCCESS, first.msg.status
            seen = ids_of(first, ls) + ids_of(second, ls)
            assert len(ids_of(first, ls)) == 2 and len(seen) == 4 and len(set(seen)) == 4, seen
        everything = api.call(ls.rpc, with_parents(request_of(ls.rpc), ls, parents))
        assert {f"{tag}-a", f"{tag}-b", f"{tag}-c"} <= set(ids_of(everything, ls))

    if "patch" in plans and "get" in plans and not (api.name.startswith("http") and same_route(plans["patch"], create_plan)):
        # (over HTTP a Patch published on the very verb and path of its Post, as PatchRunners is, cannot be told apart)
        pt, g = plans["patch"], plans["get"]
        text = next((f for f in _TEXT_FIELDS if f in message_class(col.kind).DESCRIPTOR.fields_by_name), "")
        if text:
            for action, value, expected in (("merge", "first", "first"), ("overwrite", "second", "second"), ("remove", "x", "")):
                item = make_item(col.kind, f"{tag}-a")
                setattr(item, text, value)
                req = with_parents(request_of(pt.rpc), pt, parents)
                req.action = action  # type: ignore[attr-defined]
                field = req.DESCRIPTOR.fields_by_name[pt.request_field]
                (getattr(req, pt.request_field).append(item) if is_repeated(field) else getattr(req, pt.request_field).CopyFrom(item))
                assert api.call(pt.rpc, req).code == SC.SUCCESS
                got = api.call(g.rpc, with_parents(set_ids(request_of(g.rpc), g, f"{tag}-a"), g, parents))
                assert getattr(getattr(got.msg, g.response_field), text) == expected, (action, got.msg)
            bad = with_parents(request_of(pt.rpc), pt, parents)
            bad.action = "explode"  # type: ignore[attr-defined]
            getattr(bad, pt.request_field).append(make_item(col.kind, f"{tag}-a"))
            assert api.call(pt.rpc, bad).code != SC.SUCCESS

    if "delete" in plans:
        d = plans["delete"]
        gone = api.call(d.rpc, with_parents(set_ids(request_of(d.rpc), d, f"{tag}-b"), d, parents))
        assert gone.code == SC.SUCCESS, gone.msg.status
        again = api.call(d.rpc, with_parents(set_ids(request_of(d.rpc), d, f"{tag}-b"), d, parents))
        assert code_name(again.code).endswith("DOES_NOT_EXIST"), again.msg.status
        if "get" in plans:
            g = plans["get"]
            after = api.call(g.rpc, with_parents(set_ids(request_of(g.rpc), g, f"{tag}-b"), g, parents))
            assert code_name(after.code).endswith("DOES_NOT_EXIST")

    if parents and "list" in plans:
        ls = plans["list"]
        orphan = api.call(ls.rpc, with_parents(request_of(ls.rpc), ls, [*parents[:-1], "no-such-parent"]))
        assert code_name(orphan.code).endswith("DOES_NOT_EXIST"), orphan.msg.status
        sibling = create_parents(api, col, tag + "s")
        empty = api.call(ls.rpc, with_parents(request_of(ls.rpc), ls, sibling))
        assert empty.code == SC.SUCCESS and ids_of(empty, ls) == []


def test_rename_moves_children(api: Any) -> None:
    """PatchModelIds renames a model; its versions follow it."""
    tag = f"{api.name}-ren"
    assert api.call("PostModels", p.PostModelsRequest(user_app_id=APP, model=p.Model(id=f"{tag}-m", model_type_id="text-to-text"))).code == SC.SUCCESS
    v = api.call("PostModelVersions", p.PostModelVersionsRequest(user_app_id=APP, model_id=f"{tag}-m", model_versions=[p.ModelVersion(id="v1")]))
    assert v.code == SC.SUCCESS and v.msg.model.model_version.id == "v1"
    r = api.call("PatchModelIds", p.PatchModelIdsRequest(user_app_id=APP, ids=[p.IdUpdateSource(id=f"{tag}-m", new_id=f"{tag}-n")], action="overwrite"))
    assert r.code == SC.SUCCESS and r.msg.models[0].id == f"{tag}-n"
    assert api.call("GetModel", p.GetModelRequest(user_app_id=APP, model_id=f"{tag}-n")).code == SC.SUCCESS
    assert api.call("GetModel", p.GetModelRequest(user_app_id=APP, model_id=f"{tag}-m")).code == SC.MODEL_DOES_NOT_EXIST
    got = api.call("GetModelVersion", p.GetModelVersionRequest(user_app_id=APP, model_id=f"{tag}-n", version_id="v1"))
    assert got.code == SC.SUCCESS, got.msg.status
    # training is emulated by states: one per read
    assert got.msg.model_version.status.code == SC.MODEL_TRAINING
    again = api.call("GetModelVersion", p.GetModelVersionRequest(user_app_id=APP, model_id=f"{tag}-n", version_id="v1"))
    assert again.msg.model_version.status.code == SC.MODEL_TRAINED


def test_jobs_progress_and_cancel(api: Any) -> None:
    tag = f"{api.name}-job"
    made = api.call("PostBulkOperations", p.PostBulkOperationsRequest(user_app_id=APP, bulk_operations=[p.BulkOperation(id=f"{tag}-1"),
                                                                                          p.BulkOperation(id=f"{tag}-2")]))
    assert made.code == SC.SUCCESS and made.msg.bulk_operation[0].status.code == SC.BULK_OPERATION_PENDING
    states = [api.call("GetBulkOperation", p.GetBulkOperationRequest(user_app_id=APP, id=f"{tag}-1")).msg.bulk_operation.status.code for _ in range(3)]
    assert states == [SC.BULK_OPERATION_IN_PROGRESS, SC.BULK_OPERATION_SUCCESS, SC.BULK_OPERATION_SUCCESS]
    cancelled = api.call("CancelBulkOperations", p.CancelBulkOperationRequest(user_app_id=APP, ids=[f"{tag}-2"]))
    assert cancelled.code == SC.SUCCESS and cancelled.msg.bulk_operation[0].status.code == SC.BULK_OPERATION_CANCELLED
    done = api.call("PostInputsDataSources", p.PostInputsDataSourcesRequest(user_app_id=APP, data_sources=[p.InputsDataSource(inputs_add_job_id=f"{tag}-j")]))
    assert done.code == SC.SUCCESS and done.msg.inputs_add_jobs[0].status.code == SC.JOB_QUEUED
    job = api.call("GetInputsAddJob", p.GetInputsAddJobRequest(user_app_id=APP, id=f"{tag}-j"))
    assert job.msg.inputs_add_job.status.code == SC.JOB_RUNNING


def test_upload_parts_complete_the_upload(api: Any) -> None:
    tag = f"{api.name}-up"
    made = api.call("PostUploads", p.PostUploadsRequest(user_app_id=APP, uploads=[p.Upload(id=tag, content_length=6, content_name="a.bin")]))
    assert made.code == SC.SUCCESS, made.msg.status
    half = api.call("PutUploadContentParts", p.PutUploadContentPartsRequest(user_app_id=APP, 
        upload_id=tag, content_parts=[p.UploadContentPart(part_number=1, data=b"abc")]))
    assert half.code == SC.SUCCESS and half.msg.upload.status.code == SC.UPLOAD_IN_PROGRESS
    rerun = api.call("PutUploadContentParts", p.PutUploadContentPartsRequest(user_app_id=APP, 
        upload_id=tag, content_parts=[p.UploadContentPart(part_number=1, data=b"abc")]))
    assert rerun.msg.upload.status.code == SC.UPLOAD_IN_PROGRESS  # the same part again counts once
    full = api.call("PutUploadContentParts", p.PutUploadContentPartsRequest(user_app_id=APP, 
        upload_id=tag, content_parts=[p.UploadContentPart(part_number=2, data=b"def")]))
    assert full.msg.upload.status.code == SC.UPLOAD_DONE
