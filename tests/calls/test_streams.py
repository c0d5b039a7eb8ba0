"""Streaming calls through Client/AsyncClient and the raw stub, on both transports, sync and async.

Order and content, the whole-call deadline and the idle timeout, cancellation seen by the
server, retries before the first message only, a typed error carrying N after message N,
bidirectional calls over gRPC (and their refusal over JSON), and streamed statuses.
"""

from __future__ import annotations

import asyncio
import gc

import grpc
import pytest

from clarifai_grpc_client import (
    DeadlineExceeded,
    NotFound,
    RetryPolicy,
    ServiceUnavailable,
    StreamingNotSupported,
    StreamInterrupted,
    TooManyRequests,
)
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import V2Stub
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

from .conftest import CHUNKS, KEY, PROMPT, generate, make_async_client, make_client, texts

GEN = "GenerateModelOutputs"
BIDI = "StreamModelOutputs"


def test_generate_streams_the_chunks_in_order_and_they_add_up_to_the_unary_reply(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        stream = client.GenerateModelOutputs(generate())
        got = texts(stream)
        whole = client.PostModelOutputs(generate()).outputs[0].data.text.raw
    assert got == CHUNKS and "".join(got) == whole
    assert stream.delivered == 4
    assert emu.faults.streams.count("completed", GEN) == 1


async def test_async_generate_streams_the_chunks_in_order(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport) as client:
        stream = client.GenerateModelOutputs(generate())
        got = [m.outputs[0].data.text.raw async for m in stream]
        whole = (await client.PostModelOutputs(generate())).outputs[0].data.text.raw
    assert got == CHUNKS and "".join(got) == whole and stream.delivered == 4


def test_whole_call_deadline_ends_a_slow_stream_with_the_count(emu: Emulator, transport: str) -> None:
    got: list[str] = []
    with make_client(emu, transport) as client, pytest.raises(DeadlineExceeded) as info:
        for m in client.GenerateModelOutputs(generate(delay=2.0), timeout=0.5):
            got.append(m.outputs[0].data.text.raw)
    assert got == CHUNKS[:1]
    assert isinstance(info.value, StreamInterrupted) and info.value.delivered == 1


async def test_async_whole_call_deadline(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport, stream_timeout=0.5) as client:
        stream = client.GenerateModelOutputs(generate(delay=2.0))
        with pytest.raises(DeadlineExceeded) as info:
            async for _ in stream:
                pass
    assert isinstance(info.value, StreamInterrupted) and info.value.delivered == 1


def test_idle_timeout_bounds_the_wait_between_messages(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        stream = client.GenerateModelOutputs(generate(delay=2.0), idle_timeout=0.3, timeout=30)
        assert next(stream).outputs[0].data.text.raw == CHUNKS[0]
        with pytest.raises(DeadlineExceeded, match="idle timeout") as info:
            next(stream)
    assert isinstance(info.value, StreamInterrupted) and info.value.delivered == 1
    assert emu.faults.streams.wait_for("cancelled", 1, GEN, timeout=10)


async def test_async_idle_timeout(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport, idle_timeout=0.3) as client:
        stream = client.GenerateModelOutputs(generate(delay=2.0))
        assert (await stream.__anext__()).outputs[0].data.text.raw == CHUNKS[0]
        with pytest.raises(DeadlineExceeded, match="idle timeout"):
            await stream.__anext__()
    assert emu.faults.streams.wait_for("cancelled", 1, GEN, timeout=10)


def test_breaking_out_of_the_loop_cancels_the_stream_on_the_wire(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        for m in client.GenerateModelOutputs(generate(delay=0.5)):
            assert m.outputs[0].data.text.raw == CHUNKS[0]
            break
        gc.collect()
        assert emu.faults.streams.wait_for("cancelled", 1, GEN, timeout=10)
        stream = client.GenerateModelOutputs(generate(delay=0.5))
        next(stream)
        stream.close()
        assert emu.faults.streams.wait_for("cancelled", 2, GEN, timeout=10)
        with client.GenerateModelOutputs(generate(delay=0.5)) as scoped:
            next(scoped)
        assert emu.faults.streams.wait_for("cancelled", 3, GEN, timeout=10)
        assert list(stream) == []  # a closed stream stays ended
    assert emu.faults.streams.active(GEN) == 0


async def test_async_break_close_and_task_cancel_cancel_the_stream(emu: Emulator, transport: str) -> None:
    async with make_async_client(emu, transport) as client:
        async for _ in client.GenerateModelOutputs(generate(delay=0.5)):
            break
        gc.collect()
        await asyncio.sleep(0)
        assert await asyncio.to_thread(emu.faults.streams.wait_for, "cancelled", 1, GEN, 10)
        stream = client.GenerateModelOutputs(generate(delay=0.5))
        await stream.__anext__()
        await stream.aclose()
        assert await asyncio.to_thread(emu.faults.streams.wait_for, "cancelled", 2, GEN, 10)

        async def consume() -> None:
            async for _ in client.GenerateModelOutputs(generate(delay=5.0)):
                pass

        task = asyncio.create_task(consume())
        await asyncio.to_thread(emu.faults.streams.wait_for, "messages", 3, GEN, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(emu.faults.streams.wait_for, "cancelled", 3, GEN, 10)
    assert emu.faults.streams.active(GEN) == 0


def test_refused_stream_is_retried_before_its_first_message(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next(GEN, 2)
    with make_client(emu, transport) as client:
        assert texts(client.GenerateModelOutputs(generate())) == CHUNKS
    assert emu.faults.streams.count("started", GEN) == 3


def test_a_throttled_first_message_is_retried_not_delivered(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next(GEN, 1, "throttled")
    with make_client(emu, transport) as client:
        assert texts(client.GenerateModelOutputs(generate())) == CHUNKS


async def test_async_refused_stream_is_retried(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next(GEN, 2)
    async with make_async_client(emu, transport) as client:
        assert [m.outputs[0].data.text.raw async for m in client.GenerateModelOutputs(generate())] == CHUNKS


@pytest.mark.parametrize("kind", ["unavailable", "dropped"])
def test_failure_after_message_n_raises_with_n_and_is_not_retried(emu: Emulator, transport: str, kind: str) -> None:
    emu.faults.cut_stream(GEN, 2, kind)
    got: list[str] = []
    with make_client(emu, transport) as client, pytest.raises(ServiceUnavailable) as info:
        for m in client.GenerateModelOutputs(generate()):
            got.append(m.outputs[0].data.text.raw)
    assert got == CHUNKS[:2]  # nothing twice
    err = info.value
    assert isinstance(err, StreamInterrupted) and err.delivered == 2 and "after 2 messages" in str(err)
    assert emu.faults.streams.count("started", GEN) == 1


async def test_async_failure_after_message_n(emu: Emulator, transport: str) -> None:
    emu.faults.cut_stream(GEN, 3)
    got: list[str] = []
    async with make_async_client(emu, transport) as client:
        with pytest.raises(StreamInterrupted) as info:
            async for m in client.GenerateModelOutputs(generate()):
                got.append(m.outputs[0].data.text.raw)
    assert got == CHUNKS[:3] and info.value.delivered == 3
    assert emu.faults.streams.count("started", GEN) == 1


def test_a_failing_status_in_a_stream_raises_on_the_client_and_is_yielded_by_the_raw_stub(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        request = generate(model_id="no-such-model")
        request.user_app_id.app_id = "main"  # the raw stub fills nothing in
        raw = list(client.stub.GenerateModelOutputs(request))
        assert len(raw) == 1 and raw[0].status.code == status_code_pb2.MODEL_DOES_NOT_EXIST
        with pytest.raises(NotFound) as info:
            list(client.GenerateModelOutputs(generate(model_id="no-such-model")))
    assert info.value.code_name == "MODEL_DOES_NOT_EXIST"


async def test_async_raw_stub_streams_with_the_channel_metadata(emu: Emulator, transport: str) -> None:
    request = generate()
    request.user_app_id.app_id = "main"
    async with make_async_client(emu, transport) as client:
        got = [m async for m in client.stub.GenerateModelOutputs(request)]
    assert texts(got) == CHUNKS and all(m.status.code == status_code_pb2.SUCCESS for m in got)


def test_bidi_over_grpc_answers_each_request_in_order(emu: Emulator) -> None:
    with make_client(emu, "grpc") as client:
        stream = client.StreamModelOutputs([generate("a b"), generate("c d e")])
        assert texts(stream) == ["b", " a", "e", " d", " c"]
        assert stream.requests_sent == 2
        # a generator works too (read once, never re-read)
        assert texts(client.StreamModelOutputs(generate(p) for p in ["x y"])) == ["y", " x"]


async def test_async_bidi_over_grpc_with_an_async_iterable(emu: Emulator) -> None:
    async def requests():  # type: ignore[no-untyped-def]
        for p in ["a b", "c"]:
            yield generate(p)
            await asyncio.sleep(0.01)

    async with make_async_client(emu, "grpc") as client:
        got = [m.outputs[0].data.text.raw async for m in client.StreamModelOutputs(requests())]
        listed = [m.outputs[0].data.text.raw async for m in client.StreamModelOutputs([generate("q r")])]
    assert got == ["b", " a", "c"] and listed == ["r", " q"]


def test_bidi_with_a_list_is_retried_but_a_consumed_iterator_is_not(emu: Emulator) -> None:
    with make_client(emu, "grpc") as client:
        emu.faults.fail_next(BIDI, 1)
        assert texts(client.StreamModelOutputs([generate("a b")])) == ["b", " a"]
        emu.faults.fail_next(BIDI, 1)
        taken: list[int] = []

        def requests():  # type: ignore[no-untyped-def]
            taken.append(1)
            yield generate("a b")

        with pytest.raises(ServiceUnavailable):
            list(client.StreamModelOutputs(requests()))
    assert len(taken) == 1  # never re-read


def test_an_error_in_the_callers_request_iterator_is_raised_not_swallowed(emu: Emulator) -> None:
    class Broken(Exception):
        pass

    def requests():  # type: ignore[no-untyped-def]
        yield generate("a b")
        raise Broken("the caller's source failed")

    with make_client(emu, "grpc") as client, pytest.raises(Broken):
        list(client.StreamModelOutputs(requests()))


def test_bidi_over_json_is_refused_with_a_typed_error_naming_the_rpc(emu: Emulator) -> None:
    with make_client(emu, "json") as client:
        with pytest.raises(StreamingNotSupported, match="StreamModelOutputs.*gRPC"):
            client.StreamModelOutputs([generate()])
        with pytest.raises(StreamingNotSupported, match="StreamModelOutputs"):
            client.stub.StreamModelOutputs(iter([generate()]))
    assert emu.faults.streams.count("started", BIDI) == 0


async def test_async_bidi_over_json_is_refused(emu: Emulator) -> None:
    async with make_async_client(emu, "json") as client:
        with pytest.raises(StreamingNotSupported, match="StreamModelOutputs.*gRPC"):
            client.StreamModelOutputs([generate()])


def test_raw_stub_on_a_plain_channel_still_streams_the_same(emu: Emulator) -> None:
    """The oracle: the generated stub on a plain grpc channel gives what Client gives."""
    channel = grpc.insecure_channel(emu.grpc_target)
    try:
        plain = list(V2Stub(channel).GenerateModelOutputs(
            generate(), metadata=(("authorization", f"Key {KEY}"),), timeout=30))
    finally:
        channel.close()
    assert texts(plain) == CHUNKS and PROMPT


def test_streams_are_not_retried_without_retries(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next(GEN, 1)
    with make_client(emu, transport, retry=RetryPolicy(max_attempts=1, wait_for_connection=False)) as client:
        with pytest.raises(ServiceUnavailable) as info:
            list(client.GenerateModelOutputs(generate()))
    assert not isinstance(info.value, StreamInterrupted)  # nothing was delivered


def test_observers_see_each_stream_attempt(emu: Emulator, transport: str) -> None:
    from clarifai_grpc_client import CallEvent

    events: list[CallEvent] = []
    emu.faults.fail_next(GEN, 1)
    with make_client(emu, transport, observers=[events.append]) as client:
        assert texts(client.GenerateModelOutputs(generate())) == CHUNKS
    got = [(e.method, e.attempt, e.will_retry, e.grpc_code) for e in events]
    assert got == [(GEN, 1, True, "UNAVAILABLE"), (GEN, 2, False, "OK")]
    assert events[-1].status_code == "SUCCESS"


def test_a_stream_failing_mid_way_is_one_event_with_the_failure(emu: Emulator, transport: str) -> None:
    """An attempt that delivered messages and then failed is reported once, when it ends, as failed."""
    from clarifai_grpc_client import CallEvent

    events: list[CallEvent] = []
    emu.faults.cut_stream(GEN, 2)
    with make_client(emu, transport, observers=[events.append]) as client:
        with pytest.raises(StreamInterrupted):
            list(client.GenerateModelOutputs(generate()))
    assert [(e.attempt, e.will_retry, e.grpc_code) for e in events] == [(1, False, "UNAVAILABLE")]


async def test_async_stream_attempts_are_one_event_each(emu: Emulator, transport: str) -> None:
    """asyncio: one event for a stream run to its end, one for a stream cut after a message, one for
    a stream closed after its first message (reported as it stood: OK)."""
    from clarifai_grpc_client import CallEvent

    events: list[CallEvent] = []
    async with make_async_client(emu, transport, observers=[events.append]) as client:
        assert [m async for m in client.GenerateModelOutputs(generate())]
        emu.faults.cut_stream(GEN, 1)
        with pytest.raises(StreamInterrupted):
            async for _ in client.GenerateModelOutputs(generate()):
                pass
        stream = client.GenerateModelOutputs(generate())
        async for _ in stream:
            break
        await stream.aclose()
    assert [(e.attempt, e.grpc_code) for e in events] == [(1, "OK"), (1, "UNAVAILABLE"), (1, "OK")]


def test_a_retryable_first_status_not_retried_is_reported_once(emu: Emulator, transport: str) -> None:
    """Out of attempts, a throttled first message ends the attempt: observers get one event for it."""
    from clarifai_grpc_client import CallEvent

    events: list[CallEvent] = []
    emu.faults.fail_next(GEN, 1, "throttled")
    policy = RetryPolicy(max_attempts=1, wait_for_connection=False)
    with make_client(emu, transport, observers=[events.append], retry=policy) as client:
        with pytest.raises(TooManyRequests):
            list(client.GenerateModelOutputs(generate()))
    assert [(e.attempt, e.will_retry, e.status_code) for e in events] == [(1, False, "CONN_THROTTLED")]


def test_raw_stub_stream_gives_the_grpc_call_details(emu: Emulator) -> None:
    request = generate()
    request.user_app_id.app_id = "main"
    with make_client(emu, "grpc") as client:
        stream = client.stub.GenerateModelOutputs(request)
        assert isinstance(stream.initial_metadata(), tuple)
        assert texts(stream) == CHUNKS
        assert stream.code() == grpc.StatusCode.OK
