"""Both transports, sync and async, against a real scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest

from clarifai_grpc_client import (
    AsyncClient,
    CallEvent,
    Client,
    DeadlineExceeded,
    NotFound,
    RetryPolicy,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
    Unauthenticated,
)
from clarifai_grpc_client.proto import (
    Concept,
    Data,
    GetInputRequest,
    Input,
    ListInputsRequest,
    PostInputsRequest,
    PostModelOutputsRequest,
    UserAppIDSet,
)
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

from .conftest import SECRET, Abort, RawHttp, ScriptedServer, status_response, throttled

FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.01)


def make_client(server: ScriptedServer, transport: str, **kw: object) -> Client:
    kw.setdefault("retry", FAST)
    return Client(transport, server.base(transport), pat=SECRET, environ={}, **kw)  # type: ignore[arg-type]


def make_async_client(server: ScriptedServer, transport: str, **kw: object) -> AsyncClient:
    kw.setdefault("retry", FAST)
    return AsyncClient(transport, server.base(transport), pat=SECRET, environ={}, **kw)  # type: ignore[arg-type]


def unavailable() -> Abort:
    return Abort(grpc.StatusCode.UNAVAILABLE, "backend restarting", http_status=503)


def predict_request() -> PostModelOutputsRequest:
    return PostModelOutputsRequest(
        user_app_id=UserAppIDSet(user_id="u1", app_id="a1"),
        model_id="general",
        inputs=[Input(data=Data(concepts=[Concept(id="dog", value=0.0)]))],
    )


def test_raw_stub_sends_credentials_agent_and_caller_metadata(scripted: ScriptedServer, transport: str) -> None:
    with make_client(scripted, transport, request_id_prefix="svc-a") as client:
        resp = client.stub.PostModelOutputs(predict_request(), metadata=[("x-session-token", "abc")])
    assert resp.status.code == status_code_pb2.SUCCESS
    (got,) = scripted.script.calls("PostModelOutputs")
    assert got.metadata["authorization"] == f"Key {SECRET}"
    assert got.metadata["x-session-token"] == "abc"
    assert got.metadata["x-clarifai-request-id-prefix"] == "svc-a"
    assert "clarifai-grpc-client/" in got.metadata["user-agent"]
    # the request arrives field for field, including an explicit 0.0 (negative) concept
    assert got.request == predict_request()
    assert got.request.inputs[0].data.concepts[0].value == 0.0


def test_query_string_request_round_trips(scripted: ScriptedServer, transport: str) -> None:
    req = ListInputsRequest(user_app_id=UserAppIDSet(user_id="me", app_id="my app"), page=3, per_page=7, ids=["a b", "c/d"])
    with make_client(scripted, transport) as client:
        client.stub.ListInputs(req)
    (got,) = scripted.script.calls("ListInputs")
    assert got.request == req


def test_raw_stub_returns_failing_status_and_client_raises_typed_error(scripted: ScriptedServer, transport: str) -> None:
    missing = status_response("GetInput", status_code_pb2.INPUT_DOES_NOT_EXIST, "Input does not exist")
    scripted.script.queue("GetInput", missing, missing)
    req = GetInputRequest(user_app_id=UserAppIDSet(app_id="a1"), input_id="nope")
    with make_client(scripted, transport) as client:
        raw = client.stub.GetInput(req)
        assert raw.status.code == status_code_pb2.INPUT_DOES_NOT_EXIST
        with pytest.raises(NotFound) as info:
            client.GetInput(req)
    err = info.value
    assert err.code_name == "INPUT_DOES_NOT_EXIST" and err.status_code == 30102
    assert err.http_status == 404 and err.req_id == "req-test"
    assert err.description == "Input does not exist"
    assert "GetInput" in str(err)


def test_client_fills_user_app_id_from_defaults(scripted: ScriptedServer, transport: str) -> None:
    with make_client(scripted, transport, user_id="alice", app_id="photos") as client:
        client.v2.GetInput(GetInputRequest(input_id="i1"))
        client.GetInput(GetInputRequest(user_app_id=UserAppIDSet(app_id="other"), input_id="i2"))
    first, second = scripted.script.calls("GetInput")
    assert (first.request.user_app_id.user_id, first.request.user_app_id.app_id) == ("alice", "photos")
    assert (second.request.user_app_id.user_id, second.request.user_app_id.app_id) == ("alice", "other")


def test_transport_failure_on_a_read_is_retried(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("PostModelOutputs", unavailable(), unavailable())
    with make_client(scripted, transport) as client:
        resp = client.PostModelOutputs(predict_request())
    assert resp.status.code == status_code_pb2.SUCCESS
    assert len(scripted.script.calls("PostModelOutputs")) == 3


def test_in_body_throttling_is_retried_even_for_a_write_without_ids(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("PostInputs", throttled("PostInputs"), throttled("PostInputs"))
    req = PostInputsRequest(user_app_id=UserAppIDSet(app_id="a"), inputs=[Input(data=Data())])
    with make_client(scripted, transport) as client:
        client.PostInputs(req)
    assert len(scripted.script.calls("PostInputs")) == 3


def test_write_without_ids_is_not_repeated_after_a_lost_reply(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("PostInputs", unavailable())
    req = PostInputsRequest(user_app_id=UserAppIDSet(app_id="a"), inputs=[Input(data=Data()), Input(id="x")])
    with make_client(scripted, transport) as client, pytest.raises(ServiceUnavailable):
        client.PostInputs(req)
    assert len(scripted.script.calls("PostInputs")) == 1


def test_write_whose_items_all_have_ids_is_retried(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("PostInputs", unavailable())
    req = PostInputsRequest(user_app_id=UserAppIDSet(app_id="a"), inputs=[Input(id="x"), Input(id="y")])
    with make_client(scripted, transport) as client:
        client.PostInputs(req)
    assert len(scripted.script.calls("PostInputs")) == 2


def test_attempts_are_bounded_and_the_last_error_is_raised(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("ListInputs", *[throttled("ListInputs")] * 5)
    with make_client(scripted, transport, retry=FAST.replace(max_attempts=3)) as client:
        with pytest.raises(TooManyRequests) as info:
            client.ListInputs(ListInputsRequest())
    assert info.value.code_name == "CONN_THROTTLED"
    assert len(scripted.script.calls("ListInputs")) == 3


def test_grpc_negative_pushback_stops_retries(scripted: ScriptedServer) -> None:
    stop = Abort(grpc.StatusCode.UNAVAILABLE, "go away", trailers=(("grpc-retry-pushback-ms", "-1"),))
    scripted.script.queue("ListInputs", stop)
    with make_client(scripted, "grpc") as client, pytest.raises(ServiceUnavailable):
        client.ListInputs(ListInputsRequest())
    assert len(scripted.script.calls("ListInputs")) == 1


def test_http_retry_after_is_followed(scripted: ScriptedServer) -> None:
    scripted.script.queue("ListInputs", RawHttp(503, b"busy", headers={"retry-after": "0"}), RawHttp(429, b"slow down", headers={"retry-after": "0"}))
    with make_client(scripted, "json") as client:
        client.ListInputs(ListInputsRequest())
    assert len(scripted.script.calls("ListInputs")) == 3


def test_deadline_bounds_the_call(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("ListInputs", 2.0)
    with make_client(scripted, transport) as client, pytest.raises(DeadlineExceeded) as info:
        client.ListInputs(ListInputsRequest(), timeout=0.3)
    assert info.value.http_status == 504


def test_default_timeout_applies_without_a_per_call_one(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("GetInput", 2.0)
    with make_client(scripted, transport, timeout=0.3) as client, pytest.raises(DeadlineExceeded):
        client.GetInput(GetInputRequest(input_id="x"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        (RawHttp(502, b"<html><body>Bad gateway from the proxy</body></html>"), "non-JSON"),
        (RawHttp(200, b'{"status": {"code": 10000', "application/json"), "cut-off JSON"),
        (RawHttp(500, b"", "text/plain"), "empty body"),
    ],
)
def test_json_transport_turns_unexpected_bodies_into_typed_errors(scripted: ScriptedServer, raw: RawHttp, expected: str) -> None:
    scripted.script.queue("GetInput", raw, raw, raw, raw, raw)
    with make_client(scripted, "json", retry=FAST.replace(max_attempts=1)) as client:
        with pytest.raises(TransportError) as info:
            client.stub.GetInput(GetInputRequest(input_id="x"))
    err = info.value
    assert isinstance(err, grpc.RpcError)
    assert expected in str(err) and f"HTTP {raw.status}" in str(err)
    assert err.http_status == (raw.status if raw.status >= 400 else 502)
    assert SECRET not in str(err)


def test_connection_refused_is_a_typed_error_after_trying_until_the_deadline(transport: str) -> None:
    events: list[CallEvent] = []
    base = "grpc://127.0.0.1:9" if transport == "grpc" else "http://127.0.0.1:9"
    with Client(transport, base, pat=SECRET, environ={}, retry=FAST.replace(max_attempts=2), timeout=0.5,  # type: ignore[arg-type]
                observers=[events.append]) as client:
        with pytest.raises(DeadlineExceeded, match="could not connect within the 0.5 s deadline") as info:
            client.GetInput(GetInputRequest(input_id="x"))
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    # nothing was sent, so it kept trying past max_attempts, within the deadline
    assert len(events) > 2 and all(e.grpc_code in ("UNAVAILABLE", "DEADLINE_EXCEEDED") for e in events)


def test_auth_failure_status_maps_to_unauthenticated(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("ListInputs", status_response("ListInputs", status_code_pb2.CONN_KEY_INVALID, "API key not found"))
    with make_client(scripted, transport) as client, pytest.raises(Unauthenticated) as info:
        client.ListInputs(ListInputsRequest())
    assert info.value.http_status == 401


def test_secret_never_appears_in_logs_reprs_or_errors(scripted: ScriptedServer, transport: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    scripted.script.queue("ListInputs", unavailable(), throttled("ListInputs"))
    scripted.script.queue("GetInput", status_response("GetInput", status_code_pb2.CONN_KEY_INVALID))
    texts = []
    with make_client(scripted, transport) as client:
        client.ListInputs(ListInputsRequest())
        with pytest.raises(Unauthenticated) as info:
            client.GetInput(GetInputRequest(input_id="x"))
        texts += [repr(client), str(client), repr(client.config), repr(client.config.credentials), repr(client.channel)]
    texts += [str(info.value), repr(info.value), caplog.text]
    assert "ListInputs" in caplog.text and "attempt=2" in caplog.text
    for text in texts:
        assert SECRET not in text


def test_observer_sees_every_attempt(scripted: ScriptedServer, transport: str) -> None:
    events = []
    scripted.script.queue("ListInputs", unavailable())
    with make_client(scripted, transport, observers=[events.append]) as client:
        client.ListInputs(ListInputsRequest())
    assert [(e.method, e.attempt, e.will_retry) for e in events] == [("ListInputs", 1, True), ("ListInputs", 2, False)]
    assert events[-1].status_code == "SUCCESS"


async def test_async_client_calls_retries_and_deadlines(scripted: ScriptedServer, transport: str) -> None:
    scripted.script.queue("PostModelOutputs", unavailable(), throttled("PostModelOutputs"))
    scripted.script.queue("ListInputs", 2.0)
    missing = status_response("GetInput", status_code_pb2.INPUT_DOES_NOT_EXIST)
    scripted.script.queue("GetInput", missing, missing)
    async with make_async_client(scripted, transport, app_id="a1") as client:
        resp = await client.PostModelOutputs(predict_request())
        assert resp.status.code == status_code_pb2.SUCCESS
        with pytest.raises(DeadlineExceeded):
            await client.ListInputs(ListInputsRequest(), timeout=0.3)
        raw = await client.stub.GetInput(GetInputRequest(input_id="x"))
        assert raw.status.code == status_code_pb2.INPUT_DOES_NOT_EXIST
        with pytest.raises(NotFound):
            await client.v2.GetInput(GetInputRequest(input_id="x"))
    assert len(scripted.script.calls("PostModelOutputs")) == 3
    assert scripted.script.calls("GetInput")[0].metadata["authorization"] == f"Key {SECRET}"
    raw_call, checked_call = scripted.script.calls("GetInput")
    assert raw_call.request.user_app_id.app_id == "" and checked_call.request.user_app_id.app_id == "a1"


async def test_async_calls_run_concurrently_on_one_channel(scripted: ScriptedServer, transport: str) -> None:
    async with make_async_client(scripted, transport) as client:
        results = await asyncio.gather(*(client.PostModelOutputs(predict_request()) for _ in range(16)))
    assert all(r.status.code == status_code_pb2.SUCCESS for r in results)
    assert len(scripted.script.calls("PostModelOutputs")) == 16


def test_observer_reports_a_refused_connection_as_unavailable(transport: str) -> None:
    events = []
    base = "grpc://127.0.0.1:9" if transport == "grpc" else "http://127.0.0.1:9"
    retry = FAST.replace(max_attempts=2, wait_for_connection=False)
    with Client(transport, base, pat=SECRET, environ={}, retry=retry, observers=[events.append]) as client:  # type: ignore[arg-type]
        with pytest.raises(ServiceUnavailable):
            client.GetInput(GetInputRequest(input_id="x"))
    assert [e.grpc_code for e in events] == ["UNAVAILABLE", "UNAVAILABLE"]
