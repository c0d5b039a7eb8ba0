"""Every ``google.api.http`` binding of every V2 RPC routes to that RPC, with and without a trailing slash.

The cases are generated from the descriptors. Proof that a request reached its RPC (and no
other): a throttling fault is queued for that RPC alone just before the request, and the
answer must be that fault (HTTP 429, ``CONN_THROTTLED``) with the RPC's injected-fault count
up by one. Faults are decided before authentication and validation, so a request with
placeholder path values and an empty body is enough.

A few verb + path pairs are bound to two RPCs by the API itself (``POST .../runners`` by
PostRunners and PatchRunners, ``GET /v2/pipelines`` by PostPipelines and ListPipelines, two
log routes by ListLogEntries and StreamLogEntries). One path can reach only one RPC: the
gateway gives it to the RPC declared first in the service, and these cases check exactly that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from clarifai_grpc_client._transcoding import Binding, MethodRule, Router, service_rules
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.dispatch import V2

from .conftest import KEY, SC

RULES = list(service_rules(V2).values())  # in the service's declaration order
CASES = [(rule, binding) for rule in RULES for binding in rule.bindings]
OWNER: dict[tuple[str, str], MethodRule] = {}
for _rule, _binding in CASES:
    OWNER.setdefault((_binding.verb, _binding.path.template), _rule)
SHARED = sorted({(b.verb, b.path.template) for r, b in CASES if OWNER[(b.verb, b.path.template)] is not r})


def path_for(binding: Binding) -> str:
    """The binding's path with a distinct placeholder in each variable (never a literal of another route)."""
    return binding.path.expand({var: f"v-{var.replace('.', '-')}" for var in binding.path.variables})


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Emulator, httpx.Client]]:
    with Emulator(keys=(KEY,)) as emu, httpx.Client(base_url=emu.http_base, timeout=30,
                                                     headers={"Authorization": f"Key {KEY}"}) as client:
        yield emu, client


def test_the_service_has_bindings_to_check() -> None:
    assert len(RULES) == len(V2.methods) and len(CASES) > len(RULES)


@pytest.mark.parametrize("slash", ["", "/"], ids=["plain", "trailing-slash"])
def test_every_binding_reaches_its_rpc(gateway: tuple[Emulator, httpx.Client], slash: str) -> None:
    emu, client = gateway
    wrong: list[str] = []
    for binding_rule, binding in CASES:
        rule = OWNER[(binding.verb, binding.path.template)]
        rpc = rule.method.name
        before = emu.faults.injected(rpc, "throttled")
        emu.faults.fail_next(rpc, 1, "throttled")
        body = b"{}" if binding.body else None
        r = client.request(binding.verb, path_for(binding) + slash, content=body,
                           headers={"content-type": "application/json"} if body else None)
        reached = emu.faults.injected(rpc, "throttled") == before + 1
        if not reached:
            emu.faults.clear()  # the queued fault was not taken: do not let it hit a later case
        if r.status_code != 429 or not reached or _code(r) != SC.CONN_THROTTLED:
            wrong.append(f"{binding.verb} {binding.path.template}{slash} ({binding_rule.method.name}, routed to {rpc}): "
                         f"HTTP {r.status_code} {r.text[:120]}")
    assert not wrong, f"{len(wrong)} of {len(CASES)} bindings did not reach their RPC:\n" + "\n".join(wrong[:20])


def _code(r: httpx.Response) -> int:
    """The Clarifai code of a unary answer, or of the first object of a streamed one."""
    node = json.loads(r.text.splitlines()[0])
    status = node.get("status") or node.get("result", {}).get("status") or {}
    return int(status.get("code", 0))


def test_placeholder_paths_are_not_claimed_by_another_route() -> None:
    """The generated paths match their own binding under the gateway's precedence rules."""
    router = Router.for_service(V2)
    for _, binding in CASES:
        match = router.match(binding.verb, path_for(binding))
        owner = OWNER[(binding.verb, binding.path.template)]
        assert match is not None and match.rule.name == owner.name, (binding.verb, binding.path.template)


def test_only_the_api_s_own_duplicate_bindings_are_shared() -> None:
    """Shared verb + path pairs are the API's duplicates, never two templates the gateway confuses."""
    assert all(sum(1 for r, b in CASES if (b.verb, b.path.template) == key) == 2 for key in SHARED)
    owners = {OWNER[key].method.name for key in SHARED}
    assert owners <= {"PostRunners", "PatchRunners", "PostPipelines", "ListPipelines", "ListLogEntries", "StreamLogEntries"}
    assert len(SHARED) <= 4
