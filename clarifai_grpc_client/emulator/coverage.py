"""What backs each V2 RPC in the emulator, read from its registries: the facts the coverage table shows.

For every method of the service: its **state** (``stored``: the answer reads or writes the
emulator's database; ``computed``: validated, then answered from the request and built-in
knowledge; ``streaming``: a streaming RPC, served message by message), what serves it (a
special handler, or the generic engine's operation on a kind) and a one-line description.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import handlers  # noqa: F401  (registers the special handlers)
from . import rpc_streams, streams  # noqa: F401  (rpc_streams registers the streaming handlers)
from .context import HANDLERS
from .engine import CATALOGUE, V2, short


@dataclass(frozen=True)
class RpcCoverage:
    rpc: str
    state: str      # "stored", "computed" or "streaming"
    served_by: str  # "handler", "engine", "computed", "stream handler"
    what: str       # e.g. "create DatasetVersion in datasets/*/versions"


def rpc_coverage() -> list[RpcCoverage]:
    """One row per V2 method, in the service's order."""
    rows = []
    for method in V2.methods:
        name = method.name
        plan = CATALOGUE.plans[name]
        if method.client_streaming or method.server_streaming:
            kind = "bidirectional" if method.client_streaming and method.server_streaming else \
                "client streaming" if method.client_streaming else "server streaming"
            served = "stream handler" if name in streams.STREAM_HANDLERS else "none"
            rows.append(RpcCoverage(name, "streaming", served, kind))
            continue
        spec = HANDLERS.get(name)
        if spec is not None:
            doc = (spec.fn.__doc__ or "").strip().splitlines()
            rows.append(RpcCoverage(name, spec.state, "handler", doc[0] if doc else f"special handler {spec.fn.__name__}"))
        elif plan.stored:
            where = plan.collection.label if plan.collection is not None else ""
            rows.append(RpcCoverage(name, "stored", "engine", f"{plan.operation} {short(plan.kind)} in {where}"))
        else:
            rows.append(RpcCoverage(name, "computed", "computed", "validated; answers an empty " + method.output_type.name))
    return rows


def counts(rows: list[RpcCoverage]) -> dict[str, int]:
    out = {"stored": 0, "computed": 0, "streaming": 0}
    for r in rows:
        out[r.state] += 1
    return out
