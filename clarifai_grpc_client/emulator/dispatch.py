"""The one call path both transports share: faults, authentication, app resolution, the handler.

:meth:`Dispatcher.call` takes an RPC name, its decoded request and the caller's metadata and
returns an :class:`Outcome`: the response (always with a ``status`` carrying a ``req_id``), the
HTTP status the gateway should send, and whether a fault means the response must not be
delivered. The gRPC servicer and the HTTP gateway are thin adapters around it, so the same
request gets the same answer, and the same fault decision, on either transport.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import message_factory
from google.protobuf.message import Message

from .._status import code_name, http_status_for_code
from ..proto.clarifai.api import service_pb2
from ..proto.clarifai.api.status import status_code_pb2, status_pb2
from . import handlers  # noqa: F401  (registers every special handler)
from .computed import computed_handler
from .engine import CATALOGUE, handler_scope, stored_handler
from .auth import DEFAULT_APP_ID, PUBLIC_APP_ID, PUBLIC_USER_ID, KeyRing, authenticate, resolve_user
from .context import HANDLERS, CallContext, HandlerSpec
from .faults import FaultKind, Faults
from .ids import new_req_id
from .statuses import ApiFailure, make_status
from .storage import Storage, is_busy

log = logging.getLogger("clarifai_grpc_client.emulator")

V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
# What the public clarifai/main app (home of the built-in models) can be used for.
PUBLIC_RPCS = frozenset({"GetApp", "ListModels", "GetModel", "GetModelOutputInfo", "PostModelOutputs", "ListModelVersions",
                         "GetModelVersion", "GetModelType", "ListModelTypes", "GenerateModelOutputs", "StreamModelOutputs"})


def handler_for(rpc: str) -> HandlerSpec:
    """The special handler of ``rpc`` if it has one, else the generic engine's or the computed answer."""
    spec = HANDLERS.get(rpc)
    if spec is not None:
        return spec
    plan = CATALOGUE.plans[rpc]
    if plan.stored:
        return HandlerSpec(stored_handler(plan), handler_scope(plan), "stored")
    return HandlerSpec(computed_handler(plan), handler_scope(plan), "computed")


@dataclass(frozen=True)
class Outcome:
    response: Message
    http_status: int
    fault: FaultKind  # UNAVAILABLE or DROPPED: do not deliver the response
    req_id: str


class Dispatcher:
    """Runs calls against one storage with one key ring and one fault configuration."""

    def __init__(self, storage: Storage, keys: KeyRing, faults: Faults) -> None:
        self.storage = storage
        self.keys = keys
        self.faults = faults
        self._response_types: dict[str, type[Message]] = {
            m.name: message_factory.GetMessageClass(m.output_type) for m in V2.methods}
        self._request_types: dict[str, type[Message]] = {
            m.name: message_factory.GetMessageClass(m.input_type) for m in V2.methods}

    def request_class(self, rpc: str) -> type[Message]:
        return self._request_types[rpc]

    def _resolve(self, rpc: str, spec: HandlerSpec, request: Message, ctx: CallContext) -> None:
        if spec.scope == "none" or "user_app_id" not in request.DESCRIPTOR.fields_by_name:
            return
        uai = getattr(request, "user_app_id")
        ctx.user_id = resolve_user(ctx.principal, uai.user_id)
        ctx.app_id = uai.app_id or DEFAULT_APP_ID
        if spec.scope != "app":
            return
        if ctx.user_id == PUBLIC_USER_ID:
            if ctx.app_id != PUBLIC_APP_ID:
                raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"app {ctx.app_id!r} of user {PUBLIC_USER_ID!r} does not exist")
            if rpc not in PUBLIC_RPCS:
                raise ApiFailure(status_code_pb2.CONN_INSUFFICIENT_SCOPES,
                                 f"the emulator's public app {PUBLIC_USER_ID}/{PUBLIC_APP_ID} only serves models; {rpc} is not allowed there")
            return
        with self.storage.read() as tx:
            if tx.get_app(ctx.user_id, ctx.app_id) is None:
                raise ApiFailure(status_code_pb2.CONN_DOES_NOT_EXIST, f"app {ctx.app_id!r} of user {ctx.user_id!r} does not exist")

    def call(self, rpc: str, request: Message, metadata: Iterable[tuple[str, str | bytes]]) -> Outcome:
        """Run one call of ``rpc`` (a V2 method name) and say how to answer it."""
        req_id = new_req_id()
        decision = self.faults.decide(rpc)
        if decision.latency:
            time.sleep(decision.latency)
        response = self._response_types[rpc]()
        http_status: int | None = None
        if decision.kind is FaultKind.UNAVAILABLE:
            status = make_status(status_code_pb2.RPC_SERVER_UNAVAILABLE, f"fault injected by the emulator: {rpc} unavailable")
        elif decision.kind is FaultKind.THROTTLED:
            status = make_status(status_code_pb2.CONN_THROTTLED, f"fault injected by the emulator: {rpc} throttled")
        else:
            status, http_status = self._run(rpc, request, metadata, response, req_id)
        status.req_id = req_id
        getattr(response, "status").CopyFrom(status)
        if http_status is None:
            http_status = http_status_for_code(status.code)
        fault = decision.kind if decision.kind in (FaultKind.UNAVAILABLE, FaultKind.DROPPED) else FaultKind.NONE
        log.debug("%s req_id=%s -> %s%s", rpc, req_id, code_name(status.code),
                  "" if fault is FaultKind.NONE else f" (fault: {fault.value})")
        return Outcome(response, http_status, fault, req_id)

    def _run(self, rpc: str, request: Message, metadata: Iterable[tuple[str, str | bytes]], response: Message,
             req_id: str) -> tuple[status_pb2.Status, int | None]:
        try:
            principal = authenticate(metadata, self.keys)
            spec = handler_for(rpc)
            ctx = CallContext(rpc, req_id, principal, self.storage, principal.user_id, DEFAULT_APP_ID)
            self._resolve(rpc, spec, request, ctx)
            result = spec.fn(ctx, request)
            response.CopyFrom(result)
            status = getattr(response, "status")
            if not status.code:
                status.CopyFrom(make_status(status_code_pb2.SUCCESS))
            return status, ctx.http_status
        except ApiFailure as failure:
            response.Clear()
            if failure.partial is not None:
                response.MergeFrom(failure.partial)
            return failure.status(), failure.http_status
        except Exception as exc:  # a bug in the emulator must not crash or hang the call
            response.Clear()
            if is_busy(exc):  # another process holds the database: nothing was done, and a retry may pass
                log.warning("%s req_id=%s: the database stayed locked for %.1f s", rpc, req_id, self.storage.busy_timeout)
                return make_status(status_code_pb2.RPC_SERVER_UNAVAILABLE,
                                   f"{rpc}: the emulator's database stayed locked by another process for "
                                   f"{self.storage.busy_timeout:g} s; nothing was done, try again"), 503
            log.exception("emulator handler for %s failed (req_id=%s)", rpc, req_id)
            return make_status(status_code_pb2.INTERNAL_SERVER_ISSUE, f"emulator internal error in {rpc}: {type(exc).__name__}: {exc}"), None

