"""Streaming RPCs of the emulator: one runner for server-streaming and bidirectional calls, both transports.

A streaming handler is a generator registered with :func:`stream_rpc`: it gets a
:class:`StreamContext` and the request (server streaming) or an iterator of requests
(bidirectional) and yields response messages; it raises :class:`~.statuses.ApiFailure` to end
the stream with a failing message. :meth:`StreamRunner.run` wraps it with what every stream
gets, whichever transport carries it:

- the start-of-call fault decision of :class:`~.faults.Faults` (``unavailable`` refuses the
  stream before its first message, ``throttled`` answers one ``CONN_THROTTLED`` message,
  ``dropped`` cuts it abruptly before its first message), then authentication;
- :meth:`~.faults.Faults.cut_stream`: the stream ends with a fault once N messages were sent
  (or, when it has exactly N, instead of its clean end);
- a ``status`` (SUCCESS unless the handler set one) and the stream's one ``req_id`` on every
  message;
- cancellation: the transport sets :attr:`StreamContext.cancelled` when the client goes away
  (gRPC termination callback, a closed HTTP connection), pauses between messages wake at once,
  and the outcome lands in :attr:`~.faults.Faults.streams`.

The runner yields :class:`StreamEvent` values; :func:`grpc_method` turns them into a gRPC
handler and the HTTP gateway writes them as newline-delimited JSON. Methods are found by name
in the V2 service descriptor, so a streaming RPC is served as soon as the stubs have it.

Registered here: ``GenerateModelOutputs`` (server streaming) and ``StreamModelOutputs``
(bidirectional: each request gets its own chunks, in order). The ``text-to-text`` stand-in
(:mod:`.models`) streams one word per message; any other model answers in one message, the
same as ``PostModelOutputs``. The first message holds each output's model and input in full;
later chunks of the same output (same output id) name them only: model id, version id and
type, input id.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message

from .._status import http_status_for_code
from ..proto.clarifai.api import core_pb2, models_service_pb2
from ..proto.clarifai.api.status import status_code_pb2
from .auth import DEFAULT_APP_ID, Principal, authenticate
from .context import CallContext, HandlerSpec
from .dispatch import Dispatcher
from .faults import FaultKind, StreamCut
from .ids import new_id, new_req_id, timestamp
from .models import PredictionError, chunk_delay, generation_chunks, prompt_of
from .rpc_models import find_model, overall_status, predict, resolve_inputs
from .statuses import ApiFailure, make_status

log = logging.getLogger("clarifai_grpc_client.emulator.streams")

Metadata = Iterable[tuple[str, "str | bytes"]]
StreamHandler = Callable[["StreamContext", Any], Iterator[Message]]
MAX_INPUTS = 128


@dataclass(frozen=True)
class StreamSpec:
    """A streaming handler, whether it takes a request iterator, and what it needs resolved."""

    fn: StreamHandler
    bidi: bool
    scope: str


STREAM_HANDLERS: dict[str, StreamSpec] = {}


def stream_rpc(name: str, *, bidi: bool = False, scope: str = "app") -> Callable[[StreamHandler], StreamHandler]:
    """Register the decorated generator as the streaming handler of RPC ``name``."""

    def register(fn: StreamHandler) -> StreamHandler:
        if name in STREAM_HANDLERS:
            raise RuntimeError(f"two streaming handlers for {name}")
        STREAM_HANDLERS[name] = StreamSpec(fn, bidi, scope)
        return fn

    return register


def _unused_handler(ctx: CallContext, request: Any) -> Message:
    raise AssertionError("streaming handlers are run by the StreamRunner")


@dataclass
class StreamContext:
    """What a streaming handler gets: the caller, the stream's req_id, cancellation and the pause."""

    rpc: str
    req_id: str
    principal: Principal
    dispatcher: Dispatcher
    scope: str
    cancelled: threading.Event
    default_delay: float

    def resolve(self, request: Message) -> CallContext:
        """The call context for ``request`` (its user and app checked as for a unary call)."""
        ctx = CallContext(self.rpc, self.req_id, self.principal, self.dispatcher.storage, self.principal.user_id, DEFAULT_APP_ID)
        self.dispatcher._resolve(self.rpc, HandlerSpec(_unused_handler, self.scope), request, ctx)
        return ctx

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (0: not at all); False when the stream was cancelled meanwhile."""
        if seconds > 0:
            return not self.cancelled.wait(seconds)
        return not self.cancelled.is_set()


@dataclass(frozen=True)
class StreamEvent:
    """One step of a stream: a message to deliver, or (``message`` None) its end by a fault.

    ``http_status`` is what an HTTP answer should carry when this is the first event (the
    code's status for a refusal, else 200). ``end`` is ``UNAVAILABLE`` (end with an error) or
    ``DROPPED`` (end abruptly) when ``message`` is None.
    """

    message: Message | None
    http_status: int = 200
    end: FaultKind = FaultKind.NONE
    details: str = ""


class StreamRunner:
    """Runs the streaming RPCs of one dispatcher (its storage, keys and faults)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def run(self, method: descriptor.MethodDescriptor, request: Message | Iterable[Message], metadata: Metadata,
            cancelled: threading.Event) -> Generator[StreamEvent, None, None]:
        """The events of one stream of ``method``; closing the iterator early counts as a cancellation."""
        rpc = method.name
        faults = self.dispatcher.faults
        stream_log = faults.streams
        response_class = message_factory.GetMessageClass(method.output_type)
        req_id = new_req_id()
        outcome = ""
        stream_log.started(rpc)

        def failure(code: int, details: str, http_status: int | None = None) -> StreamEvent:
            resp = response_class()
            getattr(resp, "status").CopyFrom(make_status(code, details, req_id=req_id))
            return StreamEvent(resp, http_status or http_status_for_code(code))

        try:
            decision = faults.decide(rpc)
            if decision.latency and cancelled.wait(decision.latency):
                outcome = "cancelled"
                return
            if decision.kind is FaultKind.UNAVAILABLE:
                outcome = "failed"
                yield StreamEvent(None, 503, FaultKind.UNAVAILABLE, f"fault injected by the emulator: {rpc} unavailable (req_id {req_id})")
                return
            if decision.kind is FaultKind.THROTTLED:
                outcome = "failed"
                yield failure(status_code_pb2.CONN_THROTTLED, f"fault injected by the emulator: {rpc} throttled")
                return
            cut = faults.stream_cut(rpc)
            if decision.kind is FaultKind.DROPPED and cut is None:
                cut = StreamCut(0, FaultKind.DROPPED)
            try:
                principal = authenticate(metadata, self.dispatcher.keys)
            except ApiFailure as exc:
                outcome = "failed"
                yield failure(exc.code, exc.details, exc.http_status)
                return
            spec = STREAM_HANDLERS.get(rpc)
            if spec is None:
                outcome = "failed"
                yield failure(status_code_pb2.NOT_IMPLEMENTED, f"{rpc} is a V2 streaming RPC that the local emulator does not implement")
                return
            sctx = StreamContext(rpc, req_id, principal, self.dispatcher, spec.scope, cancelled, faults.stream_delay)
            arg: Any = _guarded(request, cancelled) if spec.bidi else request
            result: list[str] = []
            try:
                yield from self._deliver(rpc, spec.fn(sctx, arg), cut, req_id, cancelled, failure, result)
            finally:
                outcome = result[0] if result else ""
        finally:
            stream_log.ended(rpc, outcome or "cancelled")

    def _deliver(self, rpc: str, messages: Iterator[Message], cut: StreamCut | None, req_id: str,
                 cancelled: threading.Event, failure: Callable[[int, str], StreamEvent],
                 result: list[str]) -> Iterator[StreamEvent]:
        """Yield the handler's messages (stamped), applying the cut; the outcome goes in ``result``
        before the last event, so a consumer that stops there does not count as cancelling."""
        stream_log = self.dispatcher.faults.streams
        sent = 0

        def cut_event(c: StreamCut) -> StreamEvent:
            result.append("cut")
            how = "cut" if c.kind is FaultKind.UNAVAILABLE else "dropped"
            return StreamEvent(None, 503, c.kind, f"fault injected by the emulator: {rpc} stream {how} after {sent} messages (req_id {req_id})")

        try:
            for msg in messages:
                if cancelled.is_set():
                    result.append("cancelled")
                    return
                if cut is not None and sent >= cut.after:
                    yield cut_event(cut)
                    return
                status = getattr(msg, "status")
                if not status.code:
                    status.CopyFrom(make_status(status_code_pb2.SUCCESS))
                status.req_id = req_id
                yield StreamEvent(msg, http_status_for_code(status.code) if sent == 0 else 200)
                sent += 1
                stream_log.sent(rpc)
        except ApiFailure as exc:
            result.append("failed" if sent == 0 else "completed")
            yield failure(exc.code, exc.details)
            return
        except Exception as exc:  # a bug in a handler must end the stream with a status, not hang it
            log.exception("emulator streaming handler for %s failed (req_id=%s)", rpc, req_id)
            result.append("failed")
            yield failure(status_code_pb2.INTERNAL_SERVER_ISSUE, f"emulator internal error in {rpc}: {type(exc).__name__}: {exc}")
            return
        finally:
            close = getattr(messages, "close", None)
            if close is not None:
                close()
        if cancelled.is_set():
            result.append("cancelled")
        elif cut is not None and sent == cut.after:
            yield cut_event(cut)
        else:
            result.append("completed")


def _guarded(requests: Any, cancelled: threading.Event) -> Iterator[Message]:
    """The requests of a bidirectional stream; a client that goes away mid-stream ends it as cancelled."""
    try:
        yield from requests
    except Exception:  # grpc raises once the client cancels; an HTTP body is already complete
        cancelled.set()


# --- gRPC ------------------------------------------------------------------------------


def grpc_method(runner: StreamRunner, method: descriptor.MethodDescriptor) -> Callable[[Any, grpc.ServicerContext], Any]:
    """The gRPC servicer method for a streaming RPC: yields its messages, aborts UNAVAILABLE on a fault."""

    def events(request: Any, context: grpc.ServicerContext) -> Generator[StreamEvent, None, None]:
        cancelled = threading.Event()
        context.add_callback(cancelled.set)  # runs when the RPC ends: done, cancelled or past its deadline
        return runner.run(method, request, context.invocation_metadata(), cancelled)

    def serve_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
        stream = events(request, context)
        for event in stream:
            if event.message is None:
                stream.close()  # the outcome is logged before the client can see the end
                context.abort(grpc.StatusCode.UNAVAILABLE, event.details)
            yield event.message

    def serve_unary(request: Any, context: grpc.ServicerContext) -> Message:  # client streaming, one answer
        last: Message | None = None
        stream = events(request, context)
        for event in stream:
            if event.message is None:
                stream.close()
                context.abort(grpc.StatusCode.UNAVAILABLE, event.details)
            last = event.message
        assert last is not None
        return last

    fn = serve_stream if method.server_streaming else serve_unary
    fn.__name__ = method.name
    return fn


# --- the generative model's streams -----------------------------------------------------


def _generate(sctx: StreamContext, ctx: CallContext, req: models_service_pb2.PostModelOutputsRequest) -> Iterator[Message]:
    model = find_model(req.model_id or req.model.id, req.version_id or req.model.model_version.id)
    if not len(req.inputs):
        raise ApiFailure(status_code_pb2.PREDICT_INVALID_REQUEST, f"{sctx.rpc} needs at least one input")
    if len(req.inputs) > MAX_INPUTS:
        raise ApiFailure(status_code_pb2.INPUT_OVER_LIMIT, f"{len(req.inputs)} inputs; at most {MAX_INPUTS} per request")
    try:
        delay = chunk_delay(req.model)
    except PredictionError as err:
        raise ApiFailure(err.code, err.details) from None
    pause = sctx.default_delay if delay is None else delay
    inputs = resolve_inputs(ctx, [copy.deepcopy(i) for i in req.inputs])
    model_msg = model.message()
    if model.model_type_id != "text-to-text":  # not generative: the whole answer in one message
        outputs = [predict(model, inp, req.model.output_info.output_config, model_msg) for inp in inputs]
        yield models_service_pb2.MultiOutputResponse(outputs=outputs, status=overall_status([o.status for o in outputs]))
        return
    # The first message carries each output's model and input in full, as PostModelOutputs does;
    # later ones name them (model id, version, type; input id), so a chunk costs little more than its text.
    slim_model = core_pb2.Model(id=model_msg.id, app_id=model_msg.app_id, user_id=model_msg.user_id,
                                model_type_id=model_msg.model_type_id,
                                model_version=core_pb2.ModelVersion(id=model_msg.model_version.id))
    plans: list[tuple[core_pb2.Output, list[str]]] = []
    for inp in inputs:
        out = core_pb2.Output(id=new_id(), input=inp, model=model_msg)
        try:
            plans.append((out, generation_chunks(prompt_of(inp.data))))
        except PredictionError as err:
            out.created_at.CopyFrom(timestamp())
            out.status.CopyFrom(make_status(err.code, err.details))
            plans.append((out, []))
    length = max(1, max(len(chunks) for _, chunks in plans))
    for k in range(length):
        if k and not sctx.pause(pause):
            return
        outputs = []
        for base, chunks in plans:
            if k < len(chunks):
                if k == 0:
                    out = core_pb2.Output()
                    out.CopyFrom(base)
                else:
                    out = core_pb2.Output(id=base.id, model=slim_model, input=core_pb2.Input(id=base.input.id))
                out.created_at.CopyFrom(timestamp())
                out.status.CopyFrom(make_status(status_code_pb2.SUCCESS))
                out.data.text.raw = chunks[k]
                outputs.append(out)
            elif k == 0:
                outputs.append(base)
        yield models_service_pb2.MultiOutputResponse(outputs=outputs, status=overall_status([o.status for o in outputs]))


@stream_rpc("GenerateModelOutputs")
def generate_model_outputs(sctx: StreamContext, req: models_service_pb2.PostModelOutputsRequest) -> Iterator[Message]:
    """A prediction streamed: the text-to-text stand-in one word per message, other models in one."""
    yield from _generate(sctx, sctx.resolve(req), req)


@stream_rpc("StreamModelOutputs", bidi=True)
def stream_model_outputs(sctx: StreamContext, requests: Iterator[models_service_pb2.PostModelOutputsRequest]) -> Iterator[Message]:
    """Each request's stream in turn; a request that fails gets one failing message and the stream goes on."""
    for req in requests:
        try:
            yield from _generate(sctx, sctx.resolve(req), req)
        except ApiFailure as exc:
            yield models_service_pb2.MultiOutputResponse(status=exc.status())
        if sctx.cancelled.is_set():
            return


