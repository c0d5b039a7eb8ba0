"""Batched uploads: any iterable of inputs (or files, URLs, texts) posted within the API's limits.

Every input gets a client-set id before it is sent, so a retried batch can never create a
second copy (the service refuses a known id). Batches respect the API's limits (128 inputs and
128 MB a request, one video a request, 20 MB an image); an input that breaks one is refused
before anything is sent when the items are given as a sequence, or before its own batch when
they come from an iterator. The result reports, per id, what succeeded and why anything failed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import mimetypes
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ._errors import AlreadyExists, ApiError, ClarifaiError, MixedStatus
from ._status import code_name
from .proto import Audio, Data, Image, Input, ListInputsRequest, PostInputsRequest, Text, UserAppIDSet, Video
from .proto.clarifai.api.status import status_code_pb2

MAX_INPUTS_PER_REQUEST = 128
MAX_REQUEST_BYTES = 128 * 1024 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024

Item = Union[Input, str, Path, bytes]
Progress = Callable[["UploadReport"], None]

_FAILED_ITEM_CODES = {
    status_code_pb2.INPUT_DOWNLOAD_FAILED,
    status_code_pb2.INPUT_INVALID_ARGUMENT,
    status_code_pb2.INPUT_INVALID_URL,
    status_code_pb2.INPUT_DUPLICATE,
    status_code_pb2.INPUT_OVER_LIMIT,
    status_code_pb2.FAILURE,
}


class InputLimitError(ClarifaiError, ValueError):
    """An input breaks one of the API's size or count limits; nothing of its batch was sent."""


@dataclass(frozen=True)
class ItemFailure:
    input_id: str
    code: int
    description: str

    @property
    def code_name(self) -> str:
        return code_name(self.code)


@dataclass
class UploadReport:
    """Outcome per input id: ``succeeded``, ``already_present`` (the id existed: nothing new was
    written, e.g. after a retried batch whose first reply was lost) and ``failed``."""

    succeeded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    failed: dict[str, ItemFailure] = field(default_factory=dict)
    requests: int = 0

    @property
    def done(self) -> int:
        return len(self.succeeded) + len(self.already_present) + len(self.failed)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        return (
            f"{len(self.succeeded)} uploaded, {len(self.already_present)} already present, "
            f"{len(self.failed)} failed in {self.requests} requests"
        )


def to_input(item: Item) -> Input:
    """An Input with a client-set id from an Input, a URL, raw text, a file path or image bytes."""
    if isinstance(item, Input):
        inp = Input()
        inp.CopyFrom(item)
    elif isinstance(item, bytes):
        inp = Input(data=Data(image=Image(base64=item)))
    elif isinstance(item, Path):
        inp = _from_file(item)
    elif isinstance(item, str) and item.startswith(("http://", "https://")):
        kind = (mimetypes.guess_type(item.split("?", 1)[0])[0] or "image/").split("/", 1)[0]
        inp = Input(data=_url_data(kind, item))
    elif isinstance(item, str):
        inp = Input(data=Data(text=Text(raw=item)))
    else:
        raise InputLimitError(f"cannot upload a {type(item).__name__}: give an Input, URL, text, Path or bytes")
    if not inp.id:
        inp.id = uuid.uuid4().hex
    return inp


def _url_data(kind: str, url: str) -> Data:
    if kind == "video":
        return Data(video=Video(url=url))
    if kind == "audio":
        return Data(audio=Audio(url=url))
    if kind == "text":
        return Data(text=Text(url=url))
    return Data(image=Image(url=url))


def _from_file(path: Path) -> Input:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputLimitError(f"cannot read {path}: {exc.strerror}") from None
    kind = (mimetypes.guess_type(path.name)[0] or "image/").split("/", 1)[0]
    if kind == "video":
        return Input(data=Data(video=Video(base64=raw)))
    if kind == "audio":
        return Input(data=Data(audio=Audio(base64=raw)))
    if kind == "text":
        return Input(data=Data(text=Text(raw=raw.decode("utf-8", "replace"))))
    if len(raw) > MAX_IMAGE_BYTES:
        raise InputLimitError(f"{path} is {len(raw)} bytes; an image may be at most {MAX_IMAGE_BYTES} bytes")
    return Input(data=Data(image=Image(base64=raw)))


def check_input(inp: Input) -> int:
    """The input's encoded size; raises InputLimitError when it cannot be sent at all."""
    if len(inp.data.image.base64) > MAX_IMAGE_BYTES:
        raise InputLimitError(
            f"input {inp.id!r}: image is {len(inp.data.image.base64)} bytes; the limit is {MAX_IMAGE_BYTES} bytes"
        )
    size = inp.ByteSize()
    if size > MAX_REQUEST_BYTES:
        raise InputLimitError(f"input {inp.id!r} is {size} bytes; a request may be at most {MAX_REQUEST_BYTES} bytes")
    return size


def _is_video(inp: Input) -> bool:
    return bool(inp.data.video.url or inp.data.video.base64)


def batches(items: Iterable[Item], max_inputs: int = MAX_INPUTS_PER_REQUEST, max_bytes: int = MAX_REQUEST_BYTES) -> Iterator[list[Input]]:
    """Inputs grouped into requests within the limits (a video always alone). Pure: sends nothing."""
    if not 1 <= max_inputs <= MAX_INPUTS_PER_REQUEST:
        raise InputLimitError(f"max_inputs must be between 1 and {MAX_INPUTS_PER_REQUEST}, got {max_inputs}")
    seen: set[str] = set()
    batch: list[Input] = []
    size = 0
    for item in items:
        inp = to_input(item)
        if inp.id in seen:
            raise InputLimitError(f"input id {inp.id!r} appears twice in this upload")
        seen.add(inp.id)
        n = check_input(inp)
        if _is_video(inp):
            if batch:
                yield batch
            yield [inp]
            batch, size = [], 0
            continue
        if batch and (len(batch) >= max_inputs or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(inp)
        size += n
    if batch:
        yield batch


def _planned(items: Iterable[Item], max_inputs: int) -> Iterable[list[Input]]:
    """Validate everything first when the items are a sequence, so a bad one stops the upload before any request."""
    if isinstance(items, Sequence) and not isinstance(items, (str, bytes)):
        return list(batches(items, max_inputs))
    return batches(items, max_inputs)


class _Recorder:
    """Turns one batch's outcome into report entries; shared by the sync and async uploaders."""

    def __init__(self, report: UploadReport, progress: Progress | None) -> None:
        self.report = report
        self.progress = progress
        self.lock = threading.Lock()

    def success(self, batch: list[Input], response: Any) -> None:
        with self.lock:
            self.report.requests += 1
            self.report.succeeded += [i.id for i in batch]
            self._tick()

    def mixed(self, batch: list[Input], response: Any) -> None:
        statuses = {i.id: i.status for i in getattr(response, "inputs", [])}
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                st = statuses.get(inp.id)
                if st is not None and st.code in _FAILED_ITEM_CODES:
                    self.report.failed[inp.id] = ItemFailure(inp.id, st.code, st.description)
                else:
                    self.report.succeeded.append(inp.id)
            self._tick()

    def refused(self, batch: list[Input], existing: set[str], err: ApiError, again: bool) -> list[Input]:
        """A batch refused for known ids: those are already present. The service refuses such a batch
        as a whole, so the inputs it did not store are returned to be sent once more (when ``again``)
        instead of being reported as duplicates they are not."""
        missing = [inp for inp in batch if inp.id not in existing] if again else []
        self.present([inp for inp in batch if inp.id in existing] if missing else batch, existing, err)
        return missing

    def present(self, batch: list[Input], existing: set[str], err: ApiError) -> None:
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                if inp.id in existing:
                    self.report.already_present.append(inp.id)
                else:
                    self.report.failed[inp.id] = ItemFailure(inp.id, err.status_code, err.description)
            self._tick()

    def failure(self, batch: list[Input], err: ApiError) -> None:
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                self.report.failed[inp.id] = ItemFailure(inp.id, err.status_code or 0, str(err))
            self._tick()

    def _tick(self) -> None:
        # Called with the lock held: callbacks never overlap, and each sees the report as it is then
        # (so the counts a callback sees only grow, and the last callback sees the final report).
        if self.progress is not None:
            self.progress(self.report)


def _request(batch: list[Input], user_app_id: UserAppIDSet | None) -> PostInputsRequest:
    req = PostInputsRequest(inputs=batch)
    if user_app_id is not None:
        req.user_app_id.CopyFrom(user_app_id)
    return req


def _ids_request(batch: list[Input], user_app_id: UserAppIDSet | None) -> ListInputsRequest:
    req = ListInputsRequest(ids=[i.id for i in batch], per_page=len(batch))
    if user_app_id is not None:
        req.user_app_id.CopyFrom(user_app_id)
    return req


def upload(
    call: Callable[[str, Any], Any],
    items: Iterable[Item],
    *,
    concurrency: int = 4,
    max_inputs: int = MAX_INPUTS_PER_REQUEST,
    user_app_id: UserAppIDSet | None = None,
    progress: Progress | None = None,
) -> UploadReport:
    """Post ``items`` in batches with at most ``concurrency`` requests in flight."""
    if concurrency < 1:
        raise InputLimitError(f"concurrency must be at least 1, got {concurrency}")
    recorder = _Recorder(UploadReport(), progress)

    def send(batch: list[Input], again: bool = True) -> None:
        try:
            recorder.success(batch, call("PostInputs", _request(batch, user_app_id)))
        except MixedStatus as err:
            recorder.mixed(batch, err.response)
        except AlreadyExists as err:
            try:
                found = call("ListInputs", _ids_request(batch, user_app_id))
            except ApiError as lookup:
                recorder.failure(batch, lookup)
                return
            missing = recorder.refused(batch, {i.id for i in found.inputs}, err, again)
            if missing:
                send(missing, again=False)
        except ApiError as err:
            recorder.failure(batch, err)

    with concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="clarifai-upload") as pool:
        pending: set[concurrent.futures.Future[None]] = set()
        for batch in _planned(items, max_inputs):
            if len(pending) >= concurrency:
                done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for f in done:
                    f.result()
            pending.add(pool.submit(send, batch))
        for f in concurrent.futures.as_completed(pending):
            f.result()
    return recorder.report


async def aupload(
    call: Callable[[str, Any], Awaitable[Any]],
    items: Iterable[Item] | AsyncIterator[Item],
    *,
    concurrency: int = 4,
    max_inputs: int = MAX_INPUTS_PER_REQUEST,
    user_app_id: UserAppIDSet | None = None,
    progress: Progress | None = None,
) -> UploadReport:
    """The ``asyncio`` twin of :func:`upload` (sync iterables only: batching is pure)."""
    if concurrency < 1:
        raise InputLimitError(f"concurrency must be at least 1, got {concurrency}")
    if not isinstance(items, Iterable):
        items = [x async for x in items]
    recorder = _Recorder(UploadReport(), progress)
    gate = asyncio.Semaphore(concurrency)

    async def post(batch: list[Input], again: bool = True) -> None:
        try:
            recorder.success(batch, await call("PostInputs", _request(batch, user_app_id)))
        except MixedStatus as err:
            recorder.mixed(batch, err.response)
        except AlreadyExists as err:
            try:
                found = await call("ListInputs", _ids_request(batch, user_app_id))
            except ApiError as lookup:
                recorder.failure(batch, lookup)
                return
            missing = recorder.refused(batch, {i.id for i in found.inputs}, err, again)
            if missing:
                await post(missing, again=False)
        except ApiError as err:
            recorder.failure(batch, err)

    async def send(batch: list[Input]) -> None:
        try:
            await post(batch)
        finally:
            gate.release()

    tasks: list[asyncio.Task[None]] = []
    for batch in _planned(items, max_inputs):
        await gate.acquire()  # a slot per request in flight; released when it finishes
        tasks = [t for t in tasks if not t.done() or t.result() is not None]
        tasks.append(asyncio.ensure_future(send(batch)))
    await asyncio.gather(*tasks)
    return recorder.report
