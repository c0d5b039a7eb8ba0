"""A local emulator of the Clarifai V2 API, served over gRPC and HTTP/JSON from one process.

    from clarifai_grpc_client.emulator import Emulator

    with Emulator() as emu:              # temp database, free ports, key "demo-key"
        channel = grpc.insecure_channel(emu.grpc_target)
        ...                              # or httpx against emu.http_base
        emu.faults.fail_next("PostInputs", 2)

State lives in SQLite (``db_path`` keeps it across restarts). Built-in models are deterministic
stand-ins (see :mod:`.models`); RPCs the emulator does not implement answer ``NOT_IMPLEMENTED``.
Run it from a shell with ``python -m clarifai_grpc_client.emulator`` (see :func:`serve_main`).

Implemented RPCs: PostInputs, GetInput, ListInputs, StreamInputs, PatchInputs, DeleteInput,
DeleteInputs, GetInputCount; PostConcepts, ListConcepts, GetConcept, PatchConcepts;
PostAnnotations, GetAnnotation, ListAnnotations, PatchAnnotations, DeleteAnnotation,
DeleteAnnotations; PostInputsSearches, PostAnnotationsSearches; ListModels, GetModel,
GetModelOutputInfo, PostModelOutputs; PostWorkflows, GetWorkflow, ListWorkflows, DeleteWorkflow,
DeleteWorkflows, PostWorkflowResults; ListApps, GetApp, PostApps; ListStatusCodes, GetStatusCode.
Every other V2 RPC answers status ``NOT_IMPLEMENTED`` (HTTP 501) naming the RPC.

Where it differs from the service:

- Keys: every configured key acts as a personal access token of its user (default
  ``emulator-user``), with every scope. No authorization entry -> ``CONN_INVALID_REQUEST``
  (HTTP 401), unknown key -> ``CONN_KEY_NOT_FOUND`` (401), another user's app ->
  ``CONN_KEY_INVALID`` (401), unknown app -> ``CONN_DOES_NOT_EXIST`` (404).
- JSON answers write enum values as numbers (``"code": 10000``), as the service does; requests
  may use either names or numbers.
- Inputs are processed at once and URLs are never fetched; base64 media is stored and returned
  as sent (no hosted URLs). Concepts on inputs count as labels for search but do not appear as
  separate annotation objects.
- Writes are synchronous and all-or-nothing: a duplicate id (in the batch or already stored)
  fails the whole PostInputs with ``INPUT_DUPLICATE`` (HTTP 409) and per-input statuses; deletes
  of unknown ids fail and delete nothing. Other duplicates answer ``DATABASE_DUPLICATE_KEY``
  (``WORKFLOW_DUPLICATE`` for workflows); other missing resources ``CONN_DOES_NOT_EXIST``.
- ListInputs lists newest first; ``per_page`` above 1000 is capped, not refused.
  DeleteInputs has no "delete all" (the V2 request has only ``ids``).
- Search takes one search per request, evaluated in memory; filter-only hits score 1; similarity
  is cosine (clamped at 0) over the stand-in embedding; no geo filters, no saved searches;
  ``per_page`` defaults to 20.
- Models: three built-in stand-ins (:mod:`.models`), reachable from every app and from
  ``clarifai/main``; creating or training models is not implemented. Workflow ``node_inputs``
  order the nodes and propagate failures, but every node reads the original input.
- GetStatusCode answers the looked-up code as the response's ``status``, with HTTP 200.
- Injected ``unavailable`` faults answer HTTP 503 with ``RPC_SERVER_UNAVAILABLE`` on the gateway.
"""

from __future__ import annotations

from .faults import FaultDecision, FaultKind, FaultRule, Faults
from .server import Emulator
from .cli import serve_main
from . import standins as _standins  # registers the stand-ins named after public models

__all__ = ["Emulator", "FaultDecision", "FaultKind", "FaultRule", "Faults", "serve_main"]
