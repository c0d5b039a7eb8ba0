"""The gRPC face of the emulator: a ``V2Servicer`` whose every method goes through the dispatcher.

Every one of the V2 methods is bound on the instance, so no call ever gets the generated stub's
bare ``UNIMPLEMENTED``: unary methods go through :meth:`.dispatch.Dispatcher.call` (special
handler, generic engine or computed answer), streaming methods through :mod:`.streams`, where
streaming handlers register with :func:`.streams.stream_rpc`. Faults that lose the answer
(``unavailable``, ``dropped``) abort the call with ``UNAVAILABLE``.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.message import Message

from ..proto import V2Servicer
from .dispatch import V2, Dispatcher
from .faults import FaultKind
from .streams import StreamRunner, grpc_method

GrpcMethod = Callable[[Message, grpc.ServicerContext], Message]


class EmulatorServicer(V2Servicer):
    """Binds all V2 methods to one :class:`Dispatcher`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher
        streams = StreamRunner(dispatcher)
        for method in V2.methods:
            if method.server_streaming or method.client_streaming:  # streaming handlers: see .streams
                setattr(self, method.name, grpc_method(streams, method))
            else:
                setattr(self, method.name, self._bind(method.name))

    def _bind(self, rpc: str) -> GrpcMethod:
        dispatcher = self._dispatcher

        def call(request: Message, context: grpc.ServicerContext) -> Message:
            outcome = dispatcher.call(rpc, request, context.invocation_metadata())
            if outcome.fault is FaultKind.UNAVAILABLE:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"emulator fault injection: {rpc} unavailable (req_id {outcome.req_id})")
            if outcome.fault is FaultKind.DROPPED:
                context.abort(grpc.StatusCode.UNAVAILABLE,
                              f"emulator fault injection: {rpc} ran but its response was dropped (req_id {outcome.req_id})")
            return outcome.response

        call.__name__ = rpc
        return call
