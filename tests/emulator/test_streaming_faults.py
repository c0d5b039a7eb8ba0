"""Stream faults: cut after N messages, dropped mid-stream, refused before the first message; the stream log."""

from __future__ import annotations

import pytest

from clarifai_grpc_client.emulator import Emulator, FaultKind, Faults

from .conftest import SC
from .stream_helpers import GrpcStreams, StreamApi, prompt, texts

RPC = "GenerateModelOutputs"
FIVE = "e d c b a"  # replies "a b c d e", five chunks


@pytest.mark.parametrize("n", [0, 1, 3, 5])
def test_a_stream_cut_after_n_messages_ends_with_an_error(emu: Emulator, streams: StreamApi, n: int) -> None:
    emu.faults.cut_stream(RPC, after=n)
    res = streams.generate(prompt(FIVE))
    assert texts(res.messages) == ["a", " b", " c", " d", " e"][:n]
    assert res.error is not None and f"after {n} messages" in res.error and not res.abrupt
    if isinstance(streams, GrpcStreams):
        assert res.error.startswith("UNAVAILABLE")
    else:
        assert res.http_status == (503 if n == 0 else 200)
    assert emu.faults.streams.count("cut", RPC) == 1 and emu.faults.injected(RPC, "unavailable") == 1
    again = streams.generate(prompt(FIVE))  # a cut applies to the next stream only
    assert again.error is None and len(again.messages) == 5


def test_a_cut_beyond_the_stream_s_length_does_not_apply(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.cut_stream(RPC, after=9)
    res = streams.generate(prompt(FIVE))
    assert res.error is None and len(res.messages) == 5
    assert emu.faults.streams.count("completed", RPC) == 1


def test_a_dropped_stream_ends_abruptly(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.cut_stream(RPC, after=2, kind="dropped")
    res = streams.generate(prompt(FIVE))
    assert texts(res.messages) == ["a", " b"]
    if isinstance(streams, GrpcStreams):
        assert res.error is not None and res.error.startswith("UNAVAILABLE")
    else:
        assert res.abrupt and res.error is None  # no terminating chunk, no error object: the connection just ends
    assert emu.faults.streams.count("cut", RPC) == 1


def test_cuts_queue_up_and_apply_to_any_rpc_with_a_star(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.cut_stream("*", after=1, times=2)
    assert [len(streams.generate(prompt(FIVE)).messages) for _ in range(3)] == [1, 1, 5]


def test_unavailable_refuses_the_stream_before_its_first_message(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.fail_next(RPC, 1)
    res = streams.generate(prompt(FIVE))
    assert res.messages == [] and res.error is not None and "unavailable" in res.error
    assert res.http_status in (None, 503)
    assert emu.faults.streams.count("failed", RPC) == 1
    assert len(streams.generate(prompt(FIVE)).messages) == 5


def test_throttled_answers_one_throttled_message(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.fail_next(RPC, 1, "throttled")
    res = streams.generate(prompt(FIVE))
    assert [m.status.code for m in res.messages] == [SC.CONN_THROTTLED] and res.error is None
    assert res.http_status in (None, 429)


def test_a_dropped_start_fault_cuts_before_the_first_message(emu: Emulator, streams: StreamApi) -> None:
    emu.faults.fail_next(RPC, 1, "dropped")
    res = streams.generate(prompt(FIVE))
    assert res.messages == [] and (res.abrupt or (res.error or "").startswith("UNAVAILABLE"))


def test_the_stream_log_counts_every_outcome(emu: Emulator, streams: StreamApi) -> None:
    log = emu.faults.streams
    streams.generate(prompt(FIVE))
    emu.faults.cut_stream(RPC, after=1)
    streams.generate(prompt(FIVE))
    emu.faults.fail_next(RPC, 1)
    streams.generate(prompt(FIVE))
    assert (log.count("started", RPC), log.count("completed", RPC), log.count("cut", RPC), log.count("failed", RPC)) == (3, 1, 1, 1)
    assert log.count("messages", RPC) == 6 and log.active() == 0


def test_bad_cut_settings_are_refused() -> None:
    faults = Faults()
    with pytest.raises(ValueError):
        faults.cut_stream(RPC, after=-1)
    with pytest.raises(ValueError):
        faults.cut_stream(RPC, after=1, kind=FaultKind.THROTTLED)
    with pytest.raises(ValueError):
        faults.set_stream_delay(-0.5)
    with pytest.raises(ValueError):
        faults.set_stream_delay(float("nan"))
