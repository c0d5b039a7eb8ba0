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

from clarifai_grpc_client import AlreadyExists, Client, InputLimitError, RetryPolicy, UploadReport, derive_input_id
from clarifai_grpc_client._upload import MAX_IMAGE_BYTES, MAX_REQUEST_BYTES, batches, to_input
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


def test_a_failing_duplicate_lookup_is_reported_unconfirmed_not_failed(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)  # written, answer lost: the retry meets its own ids
    emu.faults.fail_next("ListInputs", 10, FaultKind.UNAVAILABLE)  # and the lookup of those ids keeps failing
    with make_client(emu, transport, retry=RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01)) as client:
        report = client.upload_inputs(text_inputs(f"lk-{i}" for i in range(10)))
    # They are stored, so the report must not call them failed: it says it could not tell.
    assert sorted(stored_ids(emu)) == [f"lk-{i}" for i in range(10)]
    assert report.failed == {} and sorted(report.unconfirmed) == [f"lk-{i}" for i in range(10)]
    assert all("ListInputs" in f.description for f in report.unconfirmed.values())
    assert all(f.code_name == "INPUT_DUPLICATE" for f in report.unconfirmed.values())
    assert report.succeeded == [] and report.already_present == [] and not report.ok
    assert str(report) == "0 uploaded, 0 already present, 0 failed, 10 unconfirmed in 1 requests"


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


# --- reruns: ids derived from the items --------------------------------------------------------


def _mixed_items(tmp_path: Path) -> list[Any]:
    """Files (given as Paths), URLs, texts and bytes: every kind an upload takes without an id."""
    (tmp_path / "red.png").write_bytes(png((230, 20, 20)))
    (tmp_path / "notes.txt").write_text("café naïve, in UTF-8", encoding="utf-8")
    return [tmp_path / "red.png", tmp_path / "notes.txt", "https://example.com/a.jpg", "https://example.com/b.mp4",
            "a plain text", png((20, 230, 20)), Input(data=Data(text=Text(raw="an Input without an id")))]


def test_a_rerun_stores_nothing_twice_and_reports_everything_present(emu: Emulator, transport: str,
                                                                     tmp_path: Path) -> None:
    items = _mixed_items(tmp_path)
    with make_client(emu, transport) as client:
        first = client.upload_inputs(items)
        second = client.upload_inputs(items)
    assert len(first.succeeded) == len(items) and first.ok
    assert second.succeeded == [] and second.failed == {} and sorted(second.already_present) == sorted(first.succeeded)
    stored = stored_inputs(emu)
    assert len(stored) == len(items) and sorted(i.id for i in stored) == sorted(first.succeeded)
    assert {i.data.text.raw for i in stored} >= {"café naïve, in UTF-8", "a plain text"}


async def test_async_a_rerun_stores_nothing_twice(emu: Emulator, transport: str, tmp_path: Path) -> None:
    items = _mixed_items(tmp_path)
    async with make_async_client(emu, transport) as client:
        first = await client.upload_inputs(items)
        second = await client.upload_inputs(iter(items))
    assert len(first.succeeded) == len(items)
    assert sorted(second.already_present) == sorted(first.succeeded) and second.succeeded == []
    assert len(stored_ids(emu)) == len(items)


def test_random_ids_store_every_upload_anew(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        first = client.upload_inputs(["same text", "other text"], ids="random")
        second = client.upload_inputs(["same text", "other text"], ids="random")
        with pytest.raises(InputLimitError, match="ids must be 'derived' or 'random'"):
            client.upload_inputs(["x"], ids="uuid")  # type: ignore[arg-type]
    assert len(first.succeeded) == len(second.succeeded) == 2 and not set(first.succeeded) & set(second.succeeded)
    assert sorted(i.data.text.raw for i in stored_inputs(emu)) == ["other text", "other text", "same text", "same text"]


def test_an_item_given_twice_is_sent_once_and_listed_as_repeated(emu: Emulator, transport: str) -> None:
    with make_client(emu, transport) as client:
        report = client.upload_inputs(["hello", "world", "hello"])
    assert len(report.succeeded) == 2 and report.repeated == [derive_input_id(Data(text=Text(raw="hello")))]
    assert str(report) == "2 uploaded, 0 already present, 0 failed, 1 repeats skipped in 1 requests"
    assert sorted(i.data.text.raw for i in stored_inputs(emu)) == ["hello", "world"]


def test_derived_ids_are_a_pure_function_of_data_and_source(tmp_path: Path) -> None:
    text = Data(text=Text(raw="hello"))
    assert derive_input_id(text) == derive_input_id(Data(text=Text(raw="hello")))
    assert derive_input_id(text) == "1aead0add542c24a24a76e05a91f718d"  # fixed for good: reruns by older versions match
    assert derive_input_id(text) != derive_input_id(Data(text=Text(raw="hello!")))
    assert derive_input_id(text) != derive_input_id(text, "/data/hello.txt")
    assert derive_input_id(Data(image=Image(url="https://e.com/a.jpg"))) != derive_input_id(Data(text=Text(url="https://e.com/a.jpg")))
    assert len(derive_input_id(text)) == 32 and set(derive_input_id(text)) <= set("0123456789abcdef")
    # A file: its bytes and its absolute path, however the path was spelt.
    (tmp_path / "a.png").write_bytes(png((1, 2, 3)))
    (tmp_path / "b.png").write_bytes(png((1, 2, 3)))
    (tmp_path / "sub").mkdir()
    assert to_input(tmp_path / "sub" / ".." / "a.png").id == to_input(tmp_path / "a.png").id
    assert to_input(tmp_path / "a.png").id == derive_input_id(Data(image=Image(base64=png((1, 2, 3)))),
                                                             (tmp_path / "a.png").resolve().as_posix())
    assert to_input(tmp_path / "a.png").id != to_input(tmp_path / "b.png").id  # same bytes, another file
    assert to_input("hello").id == derive_input_id(text)
    assert to_input(Input(id="mine", data=text)).id == "mine"
    assert to_input("hello", "random").id != to_input("hello", "random").id


# --- truthful reports: a batch whose fate is unknown is checked by id ---------------------------

ONE_TRY = RetryPolicy(max_attempts=1)


def test_a_lost_reply_is_checked_and_reported_stored(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)  # written, reply lost, and no retry to find out
    log = CallLog()
    with make_client(emu, transport, retry=ONE_TRY, observers=[log]) as client:
        report = client.upload_inputs(text_inputs(f"lost-{i}" for i in range(10)))
    assert report.failed == {} and report.unconfirmed == {}
    assert sorted(report.succeeded) == [f"lost-{i}" for i in range(10)]
    assert sorted(stored_ids(emu)) == [f"lost-{i}" for i in range(10)]
    assert log.calls("PostInputs") == 1 and log.calls("ListInputs") == 1


async def test_async_a_lost_reply_is_checked_and_reported_stored(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)
    async with make_async_client(emu, transport, retry=ONE_TRY) as client:
        report = await client.upload_inputs(text_inputs(f"lost-{i}" for i in range(10)))
    assert report.failed == {} and sorted(report.succeeded) == sorted(stored_ids(emu))
    assert len(report.succeeded) == 10


def test_a_batch_that_never_arrived_is_sent_once_more(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.UNAVAILABLE)  # nothing written; the check finds nothing
    with make_client(emu, transport, retry=ONE_TRY) as client:
        report = client.upload_inputs(text_inputs(f"again-{i}" for i in range(5)))
    assert report.ok and sorted(report.succeeded) == [f"again-{i}" for i in range(5)] == sorted(stored_ids(emu))
    assert report.requests == 1


def test_failed_items_name_the_real_failure_not_zero(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 2, FaultKind.UNAVAILABLE)  # the send and the one re-send
    with make_client(emu, transport, retry=ONE_TRY) as client:
        report = client.upload_inputs(text_inputs(f"down-{i}" for i in range(3)))
    assert stored_ids(emu) == [] and sorted(report.failed) == [f"down-{i}" for i in range(3)]
    names = {f.code_name for f in report.failed.values()}
    # gRPC aborts with UNAVAILABLE and no Clarifai status; HTTP answers 503 with one.
    assert names == ({"UNAVAILABLE"} if transport == "grpc" else {"RPC_SERVER_UNAVAILABLE"}), names
    assert all(f.description for f in report.failed.values())


def test_a_lookup_that_fails_after_a_lost_reply_is_unconfirmed(emu: Emulator, transport: str) -> None:
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)
    emu.faults.fail_next("ListInputs", 1, FaultKind.UNAVAILABLE)
    with make_client(emu, transport, retry=ONE_TRY) as client:
        report = client.upload_inputs(text_inputs(f"unc-{i}" for i in range(4)))
        assert report.failed == {} and sorted(report.unconfirmed) == [f"unc-{i}" for i in range(4)]
        assert {f.code_name for f in report.unconfirmed.values()} <= {"UNAVAILABLE"}
        rerun = client.upload_inputs(text_inputs(f"unc-{i}" for i in range(4)))  # a rerun settles it
    assert sorted(rerun.already_present) == [f"unc-{i}" for i in range(4)] and rerun.ok


def test_a_request_the_service_refused_is_not_looked_up(emu: Emulator, transport: str) -> None:
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        report = client.upload_inputs([Input(id="bad id", data=Data(text=Text(raw="x")))])
    assert sorted(report.failed) == ["bad id"] and log.calls("ListInputs") == 0


# --- what an item is: text must be UTF-8, a string naming a file is refused --------------------


def test_a_text_file_that_is_not_utf8_is_refused_not_altered(emu: Emulator, transport: str, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café naïve".encode("latin-1"))
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        with pytest.raises(InputLimitError, match=r"latin1\.txt is not UTF-8 text \(byte 0xe9 at offset 3\)"):
            client.upload_inputs([latin1])
    assert log.attempts() == [] and stored_ids(emu) == []


def test_a_string_naming_a_file_is_refused_with_a_hint(emu: Emulator, transport: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "photo.png").write_bytes(png((9, 9, 9)))
    monkeypatch.chdir(tmp_path)
    log = CallLog()
    with make_client(emu, transport, observers=[log]) as client:
        for name in ("photo.png", str(tmp_path / "photo.png")):
            with pytest.raises(InputLimitError, match=r"names an existing file: pass Path\("):
                client.upload_inputs(["some text", name])
        assert log.attempts() == []
        report = client.upload_inputs([Path("photo.png"), "photo.jpeg"])  # a Path is the file; no such file: text
    stored = {i.id: i for i in stored_inputs(emu)}
    assert len(report.succeeded) == 2
    assert sorted(i.data.image.base64 for i in stored.values() if i.data.image.base64) == [png((9, 9, 9))]
    assert [i.data.text.raw for i in stored.values() if i.data.text.raw] == ["photo.jpeg"]
