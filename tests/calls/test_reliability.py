"""Faults and bad input at the call layer, on both transports, sync and async.

A short server restart costs latency, not a failure; a server that accepts TCP and never
answers ends at the deadline; a message over the size limit is a final typed error with its
size and limit; non-finite timeouts are refused; requests of the wrong type are refused with
the expected type named.
"""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from clarifai_grpc_client import (
    AsyncClient,
    CallEvent,
    Client,
    ConfigurationError,
    DeadlineExceeded,
    MessageTooLarge,
    RequestTypeError,
    RetryPolicy,
    TooManyRequests,
)
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import (
    Data,
    GetInputRequest,
    Input,
    ListInputsRequest,
    PostInputsRequest,
    Text,
)
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

from .conftest import FAST, KEY, generate, make_async_client, make_client

# Short gRPC reconnect backoff and connect timeout, so that a test sees several connection attempts.
QUICK_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 200),
                   ("grpc.max_reconnect_backoff_ms", 300)]


def restart_in_background(emu: Emulator, down_for: float) -> threading.Thread:
    emu.stop(keep_database=True)
    thread = threading.Timer(down_for, emu.start)
    thread.start()
    return thread


@pytest.mark.parametrize("request_", [ListInputsRequest(), PostInputsRequest(inputs=[Input(data=Data(text=Text(raw="x")))])],
                         ids=["read", "write-without-ids"])
def test_a_short_restart_costs_latency_not_a_failure(emu: Emulator, transport: str, request_: Any) -> None:
    name = type(request_).__name__.removesuffix("Request")
    with make_client(emu, transport, timeout=20, grpc_options=QUICK_RECONNECT) as client:
        client.ListInputs(ListInputsRequest())  # connected
        restarted = restart_in_background(emu, 0.7)
        try:
            response = client.call(name, request_)
        finally:
            restarted.join()
    assert response.status.code == status_code_pb2.SUCCESS


async def test_async_a_short_restart_costs_latency_not_a_failure(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport, timeout=20, grpc_options=QUICK_RECONNECT) as client:
        await client.ListInputs(ListInputsRequest())
        restarted = restart_in_background(emu, 0.7)
        try:
            response = await client.PostInputs(PostInputsRequest(inputs=[Input(data=Data(text=Text(raw="x")))]))
        finally:
            restarted.join()
    assert response.status.code == status_code_pb2.SUCCESS


def test_a_stream_rides_out_a_restart_before_its_first_message(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport, grpc_options=QUICK_RECONNECT, stream_timeout=20) as client:
        client.ListInputs(ListInputsRequest())
        restarted = restart_in_background(emu, 0.7)
        try:
            chunks = [m.outputs[0].data.text.raw for m in client.GenerateModelOutputs(generate())]
        finally:
            restarted.join()
    assert chunks == ["four", " three", " two", " one"]


@pytest.fixture
def silent() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (nor reads)."""
    sock = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


def silent_base(port: int, transport: str) -> str:
    return f"grpc://127.0.0.1:{port}" if transport == "grpc" else f"http://127.0.0.1:{port}"


def test_a_server_that_never_answers_ends_at_the_deadline(silent: int, transport: str) -> None:
    with Client(transport, silent_base(silent, transport), pat=KEY, environ={}, retry=FAST,  # type: ignore[arg-type]
                timeout=1.5, grpc_options=QUICK_RECONNECT) as client:
        with pytest.raises(DeadlineExceeded):
            client.GetInput(GetInputRequest(input_id="x"))


async def test_async_a_server_that_never_answers_ends_at_the_deadline(silent: int, transport: str) -> None:
    async with AsyncClient(transport, silent_base(silent, transport), pat=KEY, environ={}, retry=FAST,  # type: ignore[arg-type]
                           timeout=1.5, grpc_options=QUICK_RECONNECT, app_id="main") as client:
        with pytest.raises(DeadlineExceeded):
            await client.GetInput(GetInputRequest(input_id="x"))
        with pytest.raises(DeadlineExceeded):
            async for _ in client.GenerateModelOutputs(generate(), timeout=1.0):
                pass


def big_post(size: int) -> PostInputsRequest:
    return PostInputsRequest(inputs=[Input(id="big", data=Data(text=Text(raw="x" * size)))])


def test_a_request_over_the_size_limit_is_a_final_typed_error(emu: Emulator, transport: str) -> None:
    events: list[CallEvent] = []
    with make_client(emu, transport, max_message_bytes=2000, observers=[events.append]) as client:
        with pytest.raises(MessageTooLarge) as info:
            client.PostInputs(big_post(5000))
    err = info.value
    assert not isinstance(err, TooManyRequests)
    assert err.size >= 5000 and err.limit == 2000 and err.http_status == 413
    assert "2000" in str(err) and str(err.size) in str(err)
    assert len(events) == 1  # not retried
    with make_client(emu, transport) as client:
        assert list(client.ListInputs(ListInputsRequest()).inputs) == []  # never stored


def test_a_response_over_the_size_limit_is_a_final_typed_error(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        client.PostInputs(PostInputsRequest(inputs=[Input(id=f"i{n}", data=Data(text=Text(raw="y" * 500)))
                                                    for n in range(10)]))
    events: list[CallEvent] = []
    with make_client(emu, transport, max_message_bytes=3000, observers=[events.append]) as client:
        with pytest.raises(MessageTooLarge) as info:
            client.ListInputs(ListInputsRequest(per_page=10))
    assert info.value.size > 3000 and info.value.limit == 3000
    assert len(events) == 1


async def test_async_message_size_errors_are_final(emu: Emulator, transport: str) -> None:
    events: list[CallEvent] = []
    async with make_async_client(emu, transport, max_message_bytes=2000, observers=[events.append]) as client:
        with pytest.raises(MessageTooLarge) as info:
            await client.PostInputs(big_post(5000))
    assert info.value.limit == 2000 and len(events) == 1


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 0, -1])
def test_non_finite_or_non_positive_timeouts_are_refused(emu: Emulator, transport: str, bad: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        make_client(emu, transport, timeout=bad)
    with pytest.raises(ConfigurationError, match="stream_timeout"):
        make_client(emu, transport, stream_timeout=bad)
    with make_client(emu, transport) as client:
        with pytest.raises(ConfigurationError, match="timeout"):
            client.ListInputs(ListInputsRequest(), timeout=bad)
        with pytest.raises(ConfigurationError, match="timeout"):
            client.stub.ListInputs(ListInputsRequest(), timeout=bad)
        with pytest.raises(ConfigurationError, match="idle_timeout"):
            client.GenerateModelOutputs(generate(), idle_timeout=bad)
        with pytest.raises(ConfigurationError, match="timeout"):
            client.GenerateModelOutputs(generate(), timeout=bad)
    with pytest.raises(ConfigurationError):
        RetryPolicy(max_backoff=math.inf)


async def test_async_non_finite_timeouts_are_refused(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport) as client:
        for bad in (math.inf, math.nan):
            with pytest.raises(ConfigurationError, match="timeout"):
                await client.ListInputs(ListInputsRequest(), timeout=bad)
            with pytest.raises(ConfigurationError, match="timeout"):
                await client.stub.ListInputs(ListInputsRequest(), timeout=bad)


@pytest.mark.parametrize("bad", [GetInputRequest(input_id="x"), {"per_page": 3}, None, b"\x08\x01"],
                         ids=["other-message", "dict", "none", "bytes"])
def test_requests_of_the_wrong_type_are_refused_naming_the_expected_type(emu: Emulator, transport: str, bad: Any) -> None:
    with make_client(emu, transport) as client:
        with pytest.raises(RequestTypeError, match="ListInputs takes a clarifai.api.ListInputsRequest") as info:
            client.ListInputs(bad)
        assert isinstance(info.value, TypeError)
        with pytest.raises(RequestTypeError, match="clarifai.api.ListInputsRequest"):
            client.stub.ListInputs(bad)
        with pytest.raises(RequestTypeError, match="clarifai.api.ListInputsRequest"):
            client.call("ListInputs", bad)
        with pytest.raises(RequestTypeError, match="PostModelOutputsRequest"):
            client.GenerateModelOutputs(bad)
    assert emu.faults.streams.count("started") == 0


async def test_async_requests_of_the_wrong_type_are_refused(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport) as client:
        with pytest.raises(RequestTypeError, match="clarifai.api.ListInputsRequest"):
            await client.ListInputs(GetInputRequest())  # type: ignore[arg-type]
        with pytest.raises(RequestTypeError, match="clarifai.api.ListInputsRequest"):
            await client.stub.ListInputs(None)
        with pytest.raises(RequestTypeError, match="PostModelOutputsRequest"):
            client.GenerateModelOutputs({"model_id": "m"})  # type: ignore[arg-type]


def test_a_bidi_request_of_the_wrong_type_cancels_the_call_and_is_raised(emu: Emulator) -> None:
    with make_client(emu, "grpc") as client, pytest.raises(RequestTypeError, match="PostModelOutputsRequest"):
        list(client.StreamModelOutputs([generate(), GetInputRequest()]))  # type: ignore[list-item]
    with make_client(emu, "grpc") as client, pytest.raises(RequestTypeError, match="iterable"):
        client.StreamModelOutputs(generate())  # type: ignore[arg-type]



def test_the_raw_stubs_with_call_and_future_go_through_the_policy(emu: Emulator, transport: str) -> None:
    """Code written against a grpc stub keeps its call forms: ``with_call`` gives the response and a
    call object, ``future`` a future of the response, and both are retried like a plain call."""
    request = ListInputsRequest()
    request.user_app_id.app_id = "main"
    with make_client(emu, transport) as client:
        emu.faults.fail_next("ListInputs", 1)
        response, call = client.stub.ListInputs.with_call(request)
        assert response.status.code == status_code_pb2.SUCCESS
        assert call.code().name == "OK"
        emu.faults.fail_next("ListInputs", 1)
        assert client.stub.ListInputs.future(request).result(timeout=30).status.code == status_code_pb2.SUCCESS
    assert emu.faults.injected("ListInputs") == 2  # each form met one failure and retried it
