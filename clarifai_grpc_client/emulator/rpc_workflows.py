"""Handlers for workflows over the built-in models: Post/Get/List/Delete workflows and PostWorkflowResults.

A workflow's nodes each name a built-in model; ``node_inputs`` order the nodes (a node runs
after the nodes it takes input from and fails if one of them failed). Since the built-in models
all read the original input, chaining sets order and failure propagation, not data flow.
"""

from __future__ import annotations

import copy

from ..proto.clarifai.api import core_pb2, workflows_pb2, workflows_service_pb2
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from .context import CallContext, page_bounds, rpc
from .ids import new_id, timestamp, valid_id
from .models import BUILTIN_MODELS
from .rpc_models import MAX_INPUTS, find_model, overall_status, predict, resolve_inputs
from .statuses import ApiFailure, make_status


def plan(nodes: list[core_pb2.WorkflowNode]) -> list[core_pb2.WorkflowNode]:
    """The nodes in an order that runs every node after its inputs; ValueError for a bad graph."""
    by_id: dict[str, core_pb2.WorkflowNode] = {}
    for n in nodes:
        if not n.id:
            raise ValueError("every workflow node needs an id")
        if n.id in by_id:
            raise ValueError(f"node id {n.id!r} is used twice")
        by_id[n.id] = n
        if n.model.id not in BUILTIN_MODELS:
            raise ValueError(f"node {n.id!r} uses model {n.model.id!r}; the emulator's models are: {', '.join(BUILTIN_MODELS)}")
    for n in nodes:
        for ni in n.node_inputs:
            if ni.node_id not in by_id:
                raise ValueError(f"node {n.id!r} takes input from unknown node {ni.node_id!r}")
    order: list[core_pb2.WorkflowNode] = []
    done: set[str] = set()
    while len(order) < len(nodes):
        ready = [n for n in nodes if n.id not in done and all(ni.node_id in done for ni in n.node_inputs)]
        if not ready:
            raise ValueError("the workflow's node_inputs form a cycle")
        for n in ready:
            order.append(n)
            done.add(n.id)
    return order


@rpc("PostWorkflows")
def post_workflows(ctx: CallContext, req: workflows_service_pb2.PostWorkflowsRequest) -> workflows_service_pb2.MultiWorkflowResponse:
    if not len(req.workflows):
        raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_ARGUMENT, "PostWorkflows needs at least one workflow")
    built = []
    for given in req.workflows:
        wf = copy.deepcopy(given)
        wf.id = wf.id or new_id()
        if not valid_id(wf.id):
            raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_ARGUMENT, f"workflow id {wf.id!r} is not valid")
        if not len(wf.nodes):
            raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_ARGUMENT, f"workflow {wf.id!r} has no nodes")
        try:
            plan(list(wf.nodes))
        except ValueError as exc:
            raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_GRAPH, f"workflow {wf.id!r}: {exc}") from None
        for node in wf.nodes:
            model = find_model(node.model.id, node.model.model_version.id)
            full = model.message()
            full.ClearField("output_info")
            node.model.CopyFrom(full)
        now = timestamp()
        wf.app_id, wf.user_id = ctx.app_id, ctx.user_id
        wf.created_at.CopyFrom(now)
        wf.modified_at.CopyFrom(now)
        wf.version.CopyFrom(core_pb2.WorkflowVersion(id=new_id(), workflow_id=wf.id, created_at=now, modified_at=now,
                                                     app_id=ctx.app_id, user_id=ctx.user_id, nodes=wf.nodes))
        built.append(wf)
    ids = [w.id for w in built]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiFailure(status_code_pb2.WORKFLOW_DUPLICATE, f"workflow ids repeated in the request: {', '.join(repeated)}")
    with ctx.storage.write() as tx:
        taken = sorted(tx.existing_workflows(ctx.app, ids))
        if taken:
            raise ApiFailure(status_code_pb2.WORKFLOW_DUPLICATE, f"workflows already exist: {', '.join(taken)}")
        for wf in built:
            tx.insert_workflow(ctx.app, wf)
            # its first version, where the workflow-version RPCs find it
            tx.res_insert("clarifai.api.WorkflowVersion", f"{ctx.app}/workflows={wf.id}", wf.version.id,
                          wf.version.SerializeToString())
    return workflows_service_pb2.MultiWorkflowResponse(workflows=built)


def _get(ctx: CallContext, workflow_id: str) -> core_pb2.Workflow:
    with ctx.storage.read() as tx:
        wf = tx.get_workflow(ctx.app, workflow_id)
    if wf is None:
        raise ApiFailure(status_code_pb2.WORKFLOW_DOES_NOT_EXIST, f"workflow {workflow_id!r} does not exist in app {ctx.app_id!r}")
    return wf


@rpc("GetWorkflow")
def get_workflow(ctx: CallContext, req: workflows_service_pb2.GetWorkflowRequest) -> workflows_service_pb2.SingleWorkflowResponse:
    return workflows_service_pb2.SingleWorkflowResponse(workflow=_get(ctx, req.workflow_id))


@rpc("ListWorkflows")
def list_workflows(ctx: CallContext, req: workflows_service_pb2.ListWorkflowsRequest) -> workflows_service_pb2.MultiWorkflowResponse:
    offset, limit = page_bounds(req.page, req.per_page)
    with ctx.storage.read() as tx:
        found = tx.list_workflows(ctx.app, offset=offset, limit=limit, id_contains=req.id or req.search or req.query)
    return workflows_service_pb2.MultiWorkflowResponse(workflows=found)


@rpc("DeleteWorkflow")
def delete_workflow(ctx: CallContext, req: workflows_service_pb2.DeleteWorkflowRequest) -> status_pb2.BaseResponse:
    with ctx.storage.write() as tx:
        if not tx.existing_workflows(ctx.app, [req.workflow_id]):
            raise ApiFailure(status_code_pb2.WORKFLOW_DOES_NOT_EXIST, f"workflow {req.workflow_id!r} does not exist")
        tx.delete_workflows(ctx.app, [req.workflow_id])
    return status_pb2.BaseResponse()


@rpc("DeleteWorkflows")
def delete_workflows(ctx: CallContext, req: workflows_service_pb2.DeleteWorkflowsRequest) -> status_pb2.BaseResponse:
    with ctx.storage.write() as tx:
        if req.delete_all:
            ids = [w.id for w in tx.list_workflows(ctx.app)]
        else:
            ids = list(req.ids)
            if not ids:
                raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_ARGUMENT, "give ids, or delete_all")
            missing = sorted(set(ids) - tx.existing_workflows(ctx.app, ids))
            if missing:
                raise ApiFailure(status_code_pb2.WORKFLOW_DOES_NOT_EXIST, f"workflows do not exist: {', '.join(missing)}; nothing was deleted")
        tx.delete_workflows(ctx.app, ids)
    return status_pb2.BaseResponse()


@rpc("PostWorkflowResults")
def post_workflow_results(ctx: CallContext, req: workflows_service_pb2.PostWorkflowResultsRequest) -> workflows_service_pb2.PostWorkflowResultsResponse:
    wf = _get(ctx, req.workflow_id)
    if req.version_id and req.version_id != wf.version.id:
        raise ApiFailure(status_code_pb2.WORKFLOW_DOES_NOT_EXIST, f"workflow {wf.id!r} has no version {req.version_id!r}")
    if not len(req.inputs):
        raise ApiFailure(status_code_pb2.WORKFLOW_INVALID_ARGUMENT, "PostWorkflowResults needs at least one input")
    if len(req.inputs) > MAX_INPUTS:
        raise ApiFailure(status_code_pb2.INPUT_OVER_LIMIT, f"{len(req.inputs)} inputs; at most {MAX_INPUTS} per request")
    order = plan(list(wf.nodes))
    results = []
    for inp in resolve_inputs(ctx, [copy.deepcopy(i) for i in req.inputs]):
        outputs: dict[str, core_pb2.Output] = {}
        for node in order:
            model = find_model(node.model.id)
            cfg = node.output_info_override.output_config if node.HasField("output_info_override") else req.output_config
            failed = [ni.node_id for ni in node.node_inputs if outputs[ni.node_id].status.code != status_code_pb2.SUCCESS]
            if failed:
                out = core_pb2.Output(id=new_id(), created_at=timestamp(), input=inp, model=node.model)
                out.status.CopyFrom(make_status(status_code_pb2.FAILURE, f"node {node.id!r} was not run: its input node "
                                                f"{failed[0]!r} failed"))
            else:
                out = predict(model, inp, cfg, node.model)
            outputs[node.id] = out
        shown = [outputs[n.id] for n in wf.nodes if not n.suppress_output]
        result = workflows_pb2.WorkflowResult(id=new_id(), created_at=timestamp(), input=inp, outputs=shown)
        result.status.CopyFrom(overall_status([o.status for o in outputs.values()]))
        results.append(result)
    resp = workflows_service_pb2.PostWorkflowResultsResponse(workflow=wf, results=results)
    resp.status.CopyFrom(overall_status([r.status for r in results]))
    return resp
