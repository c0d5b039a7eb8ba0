"""Client settings: inference routing and options set once and overridden per call, keyword-only
parameters, per-call timeout/retry/metadata, with_options copies, and no RPC at construction."""

from __future__ import annotations

import time

import pytest

from clarifai_grpc_client import AsyncClient, Client, ConfigurationError, RetryPolicy, Routing, TooManyRequests
from clarifai_grpc_client.proto import (
    Data,
    Input,
    ListInputsRequest,
    PostModelOutputsRequest,
    RunnerSelector,
    Deployment,
    Text,
    UserAppIDSet,
)

from ..conftest import SECRET, ScriptedServer, throttled

ONE_TRY = RetryPolicy(max_attempts=1, wait_for_connection=False)


def predict() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(user_app_id=UserAppIDSet(user_id="u1", app_id="a1"), model_id="m",
                                   inputs=[Input(data=Data(text=Text(raw="hi")))])


def client(server: ScriptedServer, transport: str, **kw: object) -> Client:
    return Client(transport, server.base(transport), pat=SECRET, environ={}, **kw)  # type: ignore[arg-type]


def test_building_a_client_makes_no_rpc_and_the_first_predict_is_the_first(scripted: ScriptedServer, transport: str) -> None:
    with client(scripted, transport, deployment_id="dep-1", user_id="u1") as c:
        time.sleep(0.2)
        assert scripted.script.received == []
        c.PostModelOutputs(predict())
    assert [r.method for r in scripted.script.received] == ["PostModelOutputs"]


def test_deployment_routing_is_filled_and_can_be_overridden_per_call(scripted: ScriptedServer, transport: str) -> None:
    with client(scripted, transport, deployment_id="dep-1", user_id="owner", use_predict_cache=True) as c:
        c.PostModelOutputs(predict())
        c.with_options(compute_cluster_id="cc", nodepool_id="np").PostModelOutputs(predict())
        own = predict()
        own.runner_selector.CopyFrom(RunnerSelector(deployment=Deployment(id="mine", user_id="me2")))
        c.PostModelOutputs(own)
        c.ListInputs(ListInputsRequest())  # no routing fields: untouched
    first, second, third = scripted.script.calls("PostModelOutputs")
    assert (first.request.runner_selector.deployment.id, first.request.runner_selector.deployment.user_id) == ("dep-1", "owner")
    assert first.request.use_predict_cache is True
    assert second.request.runner_selector.nodepool.id == "np"
    assert second.request.runner_selector.nodepool.compute_cluster.id == "cc"
    assert not second.request.runner_selector.HasField("deployment")
    assert third.request.runner_selector.deployment.id == "mine"  # the request's own wins


async def test_async_routing_and_with_options(scripted: ScriptedServer, transport: str) -> None:
    async with AsyncClient(transport, scripted.base(transport), pat=SECRET, environ={},  # type: ignore[arg-type]
                           compute_cluster_id="cc", nodepool_id="np") as c:
        await c.PostModelOutputs(predict())
        await c.with_options(deployment_id="d9").PostModelOutputs(predict())
    first, second = scripted.script.calls("PostModelOutputs")
    assert first.request.runner_selector.nodepool.id == "np"
    assert second.request.runner_selector.deployment.id == "d9" and not second.request.runner_selector.HasField("nodepool")


@pytest.mark.parametrize("kw, match", [
    ({"deployment_id": "d", "compute_cluster_id": "c", "nodepool_id": "n"}, "either deployment_id"),
    ({"compute_cluster_id": "c"}, "go together"),
    ({"nodepool_id": "n"}, "go together"),
    ({"deployment_id": "a/b"}, "plain id"),
    ({"use_predict_cache": "yes"}, "use_predict_cache"),
])
def test_routing_is_validated_locally(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Routing(**kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=match):
        Client("grpc", "grpc://127.0.0.1:9", environ={}, **kw)  # type: ignore[arg-type]


def test_a_misspelt_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="timout"):
        Client("grpc", "grpc://127.0.0.1:9", timout=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="timout"):
        AsyncClient("grpc", "grpc://127.0.0.1:9", timout=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Client("grpc", "grpc://127.0.0.1:9", "pat-as-positional")  # type: ignore[misc]


def test_per_call_retry_metadata_and_with_options_metadata(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("ListInputs", throttled("ListInputs"), throttled("ListInputs"))
    with client(scripted, transport, metadata=[("x-team", "a")]) as c:
        with pytest.raises(TooManyRequests):
            c.ListInputs(ListInputsRequest(), retry=ONE_TRY)
        c.ListInputs(ListInputsRequest(), metadata=[("x-call", "1")], retry=RetryPolicy(initial_backoff=0.001))
        tagged = c.with_options(metadata=[("x-extra", "2")], timeout=5)
        tagged.ListInputs(ListInputsRequest())
        assert tagged.channel is c.channel and tagged.config.timeout == 5 and c.config.timeout == 60
    calls = scripted.script.calls("ListInputs")
    assert len(calls) == 4
    assert calls[1].metadata["x-call"] == "1" and calls[1].metadata["x-team"] == "a"
    assert calls[3].metadata["x-extra"] == "2" and calls[3].metadata["x-team"] == "a"


def test_closing_a_copy_leaves_the_original_open(scripted: ScriptedServer, transport: str) -> None:
    with client(scripted, transport) as c:
        c.with_options(timeout=3).close()
        c.ListInputs(ListInputsRequest())
    assert len(scripted.script.calls("ListInputs")) == 1
