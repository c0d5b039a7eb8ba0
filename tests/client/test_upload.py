"""Batched uploads (``client.upload_inputs``, sync and async) against the emulator, over both transports.

The emulator writes a PostInputs all-or-nothing and refuses a known id with INPUT_DUPLICATE
(HTTP 409) naming it in the per-input statuses; ``dropped`` faults do the write and lose the
answer, which is what makes a retried batch meet its own inputs. After every upload the report is
checked against what the emulator holds (read from its storage and streamed back by the client).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clarifai_grpc_client import AlreadyExists, Client, InputLimitError, RetryPolicy, UploadReport
from clarifai_grpc_client._upload import MAX_IMAGE_BYTES, MAX_REQUEST_BYTES, batches
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator, FaultKind
from clarifai_grpc_client.proto import Audio, Data, Image, Input, MultiInputResponse, PostInputsRequest, Status, Text, Video

from ..conftest import ScriptedServer
from .conftest import SC, CallLog, make_async_client, make_client, seed, stored_ids, stored_inputs, text_inputs

N = 1000
PATIENT = RetryPolicy(max_attempts=20, initial_backoff=0.001, max_backoff=0.02)
FAULT_SEED = 8  # with the rates below, the first 8 PostInputs calls meet every kind of fault


def items_1000() -> list[Any]:
    """Half Inputs with their own ids, half bare texts (the uploader gives those an id)."""
    with_ids: list[Any] = text_inputs(f"up-{i:04d}" for i in range(N // 2))
    bare: list[Any] = [f"bare text number {i}" for i in range(N // 2)]
    return [x for pair in zip(with_ids, bare) for x in pair]


def expected_texts() -> list[str]:
    return sorted([f"text of up-{i:04d}" for i in range(N // 2)] + [f"bare text number {i}" for i in range(N // 2)])


def inject_faults(emu: Emulator) -> None:
    emu.faults.set("PostInputs", unavailable=0.15, throttled=0.15, dropped=0.1)
    emu.faults.reseed(FAULT_SEED)


def end_faults(emu: Emulator) -> dict[str, int]:
    """Stop injecting; how many faults of each kind PostInputs met."""
    injected = {kind: emu.faults.injected("PostInputs", kind) for kind in ("unavailable", "throttled", "dropped")}
    emu.faults.clear()
    return injected


class ProgressLog:
    def __init__(self) -> None:
        self.done: list[int] = []
        self.requests: list[int] = []

    def __call__(self, report: UploadReport) -> None:
        self.done.append(report.done)
        self.requests.append(report.requests)


def check_faulty_upload(emu: Emulator, report: UploadReport, progress: ProgressLog, streamed: list[Input],
                        injected: dict[str, int]) -> None:
    assert report.failed == {}
    assert len(report.succeeded) + len(report.already_present) == N
    reported = set(report.succeeded) | set(report.already_present)
    assert len(reported) == N  # no id in both lists, none twice
    assert all(injected.values()), injected
    assert report.already_present, "a dropped answer must show as inputs already present"
    stored = stored_inputs(emu)
    assert len(stored) == N and {i.id for i in stored} == reported
    assert sorted(i.data.text.raw for i in stored) == expected_texts()  # each input exactly once
    assert len(streamed) == N and {i.id for i in streamed} == reported
    assert report.requests == 8  # ceil(1000 / 128): a retried batch is still one request in the report
    assert len(progress.requests) == 8 and progress.requests[-1] == 8 and progress.done[-1] == N
    assert progress.done == sorted(progress.done)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_1000_inputs_through_faults_end_up_present_exactly_once(emu: Emulator, transport: str, concurrency: int) -> None:
    inject_faults(emu)
    progress = ProgressLog()
    with make_client(emu, transport, retry=PATIENT) as client:
        report = client.upload_inputs(items_1000(), concurrency=concurrency, progress=progress)
        injected = end_faults(emu)
        streamed = list(client.stream_inputs(per_page=1000))
    check_faulty_upload(emu, report, progress, streamed, injected)
    assert str(report) == f"{len(report.succeeded)} uploaded, {len(report.already_present)} already present, 0 failed in 8 requests"


async def test_async_1000_inputs_through_faults_end_up_present_exactly_once(emu: Emulator, transport: str) -> None:
    inject_faults(emu)
    progress = ProgressLog()
    async with make_async_client(emu, transport, retry=PATIENT) as client:
        report = await client.upload_inputs(items_1000(), concurrency=8, progress=progress)
        injected = end_faults(emu)
        streamed = [i async for i in client.stream_inputs(per_page=1000)]
    check_faulty_upload(emu, report, progress, streamed, injected)


def test_progress_callbacks_do_not_overlap_and_see_growing_counts(emu: Emulator, transport: str) -> None:
    lock = threading.Lock()
    active = overlaps = 0
    seen: list[tuple[int, int, int]] = []

    def progress(report: UploadReport) -> None:
        nonlocal active, overlaps
        with lock:
            active += 1
            overlaps += active > 1
        before = report.done
        time.sleep(0.002)  # a slow callback: others would run meanwhile if they could
        seen.append((before, report.done, report.requests))
        with lock:
            active -= 1

    with make_client(emu, transport) as client:
        report = client.upload_inputs([f"text {i}" for i in range(400)], max_inputs=10, concurrency=8, progress=progress)
    assert report.requests == 40 and len(seen) == 40
    assert overlaps == 0
    assert all(before == after for before, after, _ in seen)  # the report does not change under a callback
    assert [done for done, _, _ in seen] == [10 * k for k in range(1, 41)]
    assert [requests for _, _, requests in seen] == list(range(1, 41))


def test_an_id_already_in_the_app(emu: Emulator, transport: str) -> None:
    seed(emu, [Input(id="dup-0005", data=Data(text=Text(raw="the older input")))])
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        # What the emulator answers: the whole request refused, the known id named with its own status.
        with pytest.raises(AlreadyExists) as err:
            client.PostInputs(PostInputsRequest(inputs=text_inputs(["dup-0005", "dup-x"])))
        assert err.value.code_name == "INPUT_DUPLICATE" and err.value.http_status == 409
        assert {i.id: i.status.code for i in err.value.response.inputs} == {"dup-0005": SC.INPUT_DUPLICATE, "dup-x": 0}
        assert "dup-0005" in str(err.value)

        report = client.upload_inputs(text_inputs(f"dup-{i:04d}" for i in range(300)))
    assert report.already_present == ["dup-0005"]
    assert sorted(report.succeeded) == [f"dup-{i:04d}" for i in range(300) if i != 5]
    assert report.failed == {}
    assert report.requests == 4  # 3 batches, and the refused first batch's other 127 inputs sent once more
    stored = {i.id: i.data.text.raw for i in stored_inputs(emu)}
    assert sorted(stored) == [f"dup-{i:04d}" for i in range(300)]
    assert stored["dup-0005"] == "the older input"  # nothing was overwritten


async def test_async_an_id_already_in_the_app(emu: Emulator, transport: str) -> None:
    seed(emu, text_inputs(["dup-0200"]))
    async with make_async_client(emu, transport) as client:
        report = await client.upload_inputs(text_inputs(f"dup-{i:04d}" for i in range(300)), concurrency=2)
    assert report.already_present == ["dup-0200"] and report.failed == {} and len(report.succeeded) == 299
    assert sorted(stored_ids(emu)) == [f"dup-{i:04d}" for i in range(300)]


def test_an_invalid_input_is_reported_with_its_id_and_code(emu: Emulator, transport: str) -> None:
    items = text_inputs(f"ok-{i}" for i in range(8))
    items.insert(6, Input(id="bad id", data=Data(text=Text(raw="an id with a space"))))
    with make_client(emu, transport) as client:
        report = client.upload_inputs(items, max_inputs=5, concurrency=1)
    assert sorted(report.succeeded) == [f"ok-{i}" for i in range(5)]
    bad = report.failed["bad id"]
    assert bad.code == SC.INPUT_INVALID_ARGUMENT and bad.code_name == "INPUT_INVALID_ARGUMENT"
    assert "bad id" in bad.description
    # The service refused that batch as a whole: its other inputs are reported failed, and are absent.
    assert sorted(report.failed) == ["bad id", "ok-5", "ok-6", "ok-7"]
    assert all(f.code == SC.INPUT_INVALID_ARGUMENT for f in report.failed.values())
    assert sorted(stored_ids(emu)) == sorted(report.succeeded)
    assert not report.ok


def test_a_failing_duplicate_lookup_is_reported_not_raised(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)  # written, answer lost: the retry meets its own ids
    emu.faults.fail_next("ListInputs", 10, FaultKind.UNAVAILABLE)  # and the lookup of those ids keeps failing
    with make_client(emu, transport, retry=RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01)) as client:
        report = client.upload_inputs(text_inputs(f"lk-{i}" for i in range(10)))
    assert sorted(report.failed) == [f"lk-{i}" for i in range(10)]
    assert all("ListInputs" in f.description for f in report.failed.values())
    assert report.succeeded == [] and report.already_present == []


# --- limits: refused before anything is sent --------------------------------------------------


def _valid(n: int = 300) -> list[Any]:
    return list(text_inputs(f"v-{i:03d}" for i in range(n)))


def _big_image_file(tmp_path: Path) -> Path:
    path = tmp_path / "huge.png"
    path.write_bytes(png((1, 2, 3)) + b"\0" * MAX_IMAGE_BYTES)
    return path


LIMIT_CASES: dict[str, Callable[[Path], Any]] = {
    "image bytes over 20 MB": lambda tmp: b"\x89PNG" + b"\0" * MAX_IMAGE_BYTES,
    "image file over 20 MB": _big_image_file,
    "input over 128 MB": lambda tmp: Input(id="huge-video", data=Data(video=Video(base64=b"\0" * (MAX_REQUEST_BYTES + 1)))),
    "id twice in the upload": lambda tmp: Input(id="v-007", data=Data(text=Text(raw="same id again"))),
    "not an input": lambda tmp: {"text": "a dict is not an input"},
    "unreadable file": lambda tmp: tmp / "missing.png",
}


@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_limit_violations_are_refused_before_anything_is_sent(emu: Emulator, transport: str, tmp_path: Path,
                                                              case: str) -> None:
    bad = LIMIT_CASES[case](tmp_path)
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        with pytest.raises(InputLimitError):
            client.upload_inputs(_valid() + [bad], concurrency=4)  # the bad one comes after two full batches
    assert log.attempts() == []
    assert stored_ids(emu) == []


async def test_async_limit_violations_are_refused_before_anything_is_sent(emu: Emulator, transport: str) -> None:
    log = CallLog()
    async with make_async_client(emu, transport, observers=[log]) as client:
        with pytest.raises(InputLimitError):
            await client.upload_inputs(_valid() + [_valid(1)[0]])  # v-000 twice
        with pytest.raises(InputLimitError):
            await client.upload_inputs(_valid() + [3.14])
    assert log.attempts() == [] and stored_ids(emu) == []


def test_from_an_iterator_a_bad_input_stops_before_its_own_batch(emu: Emulator, transport: str) -> None:
    """A generator is not read ahead: batches before the bad input's are sent, nothing from its batch on."""
    def items() -> Iterator[Any]:
        yield from _valid(200)
        yield 42
        yield from text_inputs(["after"])

    with make_client(emu, transport) as client:
        with pytest.raises(InputLimitError):
            client.upload_inputs(items(), concurrency=1)
    assert sorted(stored_ids(emu)) == [f"v-{i:03d}" for i in range(128)]


# --- batching (pure) ---------------------------------------------------------------------------


def test_a_video_is_always_alone_in_its_batch(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypmp42")
    items: list[Any] = [
        "t0", "t1", "t2", "t3",
        Input(id="video-url", data=Data(video=Video(url="https://example.com/a.mp4"))),
        "t4",
        "https://example.com/b.mov",  # a video by its URL's type
        clip,  # a video by its file name
        Input(id="video-bytes", data=Data(video=Video(base64=b"\0" * 10))),
        "t5", "t6",
        Input(id="audio", data=Data(audio=Audio(url="https://example.com/a.mp3"))),
        Input(id="image", data=Data(image=Image(url="https://example.com/a.jpg"))),
    ]
    got = list(batches(items, max_inputs=3))
    kinds = [["video" if i.data.video.url or i.data.video.base64 else i.data.text.raw or i.id for i in b] for b in got]
    assert kinds == [
        ["t0", "t1", "t2"], ["t3"], ["video"], ["t4"], ["video"], ["video"], ["video"], ["t5", "t6", "audio"], ["image"],
    ]
    assert got[2][0].id == "video-url" and got[6][0].id == "video-bytes"
    assert got[4][0].data.video.url == "https://example.com/b.mov" and got[5][0].data.video.base64 == clip.read_bytes()
    flat = [i for b in got for i in b]
    assert len(flat) == len(items) and len({i.id for i in flat}) == len(items) and all(i.id for i in flat)


def test_batches_respect_the_count_and_byte_limits() -> None:
    items = [Input(id=f"b-{i:03d}", data=Data(text=Text(raw="x" * 1000))) for i in range(300)]
    got = list(batches(items))
    assert [len(b) for b in got] == [128, 128, 44]
    size = items[0].ByteSize()
    by_bytes = list(batches(items, max_inputs=128, max_bytes=size * 10 + 1))
    assert all(len(b) == 10 for b in by_bytes) and len(by_bytes) == 30
    assert [i.id for b in by_bytes for i in b] == [i.id for i in items]
    with pytest.raises(InputLimitError):
        list(batches(items, max_inputs=129))
    assert list(itertools.chain.from_iterable(batches([]))) == []


# --- MIXED_STATUS: the emulator writes all-or-nothing, so a scripted server plays the service ---


def test_mixed_status_reports_each_failed_item_with_its_code(scripted: ScriptedServer, transport: str) -> None:
    """The service can answer a batch with MIXED_STATUS and a status per input; the emulator never does."""
    def answer(request: PostInputsRequest) -> MultiInputResponse:
        resp = MultiInputResponse(status=Status(code=SC.MIXED_STATUS, description="Mixed Success", req_id="req-mixed"))
        for inp in request.inputs:
            out = resp.inputs.add(id=inp.id)
            failed = inp.id.endswith("-bad")
            out.status.code = SC.INPUT_DOWNLOAD_FAILED if failed else SC.INPUT_DOWNLOAD_PENDING
            out.status.description = "Download failed" if failed else "Download pending"
        return resp

    scripted.script.default["PostInputs"] = answer
    items = text_inputs(["m-1", "m-2-bad", "m-3", "m-4-bad", "m-5"])
    with Client(transport, scripted.base(transport), pat="k", app_id="main", environ={}, retry=PATIENT) as client:
        report = client.upload_inputs(items, max_inputs=3, concurrency=1)
    assert sorted(report.succeeded) == ["m-1", "m-3", "m-5"]
    assert sorted(report.failed) == ["m-2-bad", "m-4-bad"]
    failure = report.failed["m-2-bad"]
    assert failure.code == SC.INPUT_DOWNLOAD_FAILED and failure.code_name == SC.StatusCode.Name(SC.INPUT_DOWNLOAD_FAILED)
    assert failure.description == "Download failed"
    assert report.requests == 2 and len(scripted.script.calls("PostInputs")) == 2
