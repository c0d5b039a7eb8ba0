"""Batched uploads: any iterable of inputs (or files, URLs, texts) posted within the API's limits.

Every input gets an id before it is sent, so a retried batch can never create a second copy (the
service refuses a known id). By default the id is derived from the item itself
(:func:`derive_input_id`: its data, plus the absolute path of a file), so running the same upload
again, or after an interruption, stores nothing twice and reports the inputs already present;
``ids="random"`` gives every item a fresh id instead. Inputs that carry their own id keep it.

What an item becomes: an ``Input`` as given; ``bytes`` an image; a ``Path`` the file's content
(an image, video or audio by its name, or text, which must be UTF-8: anything else is refused,
never altered); a string starting with ``http://`` or ``https://`` a URL; any other string a
text. A string that names an existing file is refused, since it is most likely a path meant as a
file: pass ``Path(name)`` to upload the file, or an ``Input`` to upload those words as text.

Batches respect the API's limits (128 inputs and 128 MB a request, one video a request, 20 MB an
image); an item that breaks one is refused before anything is sent when the items are given as a
sequence, or before its own batch when they come from an iterator. An item identical to an
earlier one of the same upload (so with the same derived id) is sent once and listed in
``repeated``.

The report says, per id, what happened, and never calls a stored input failed: when a batch's
fate is unknown (the reply was lost, or the retries ran out on a transport failure), its ids are
looked up before anything is reported; the stored ones are reported stored, the others are sent
once more, and if even the lookup fails the batch is reported ``unconfirmed`` (a rerun settles
it). The decisions are written once (:func:`_post_batch`) and driven by a sync and an async shell.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, Union

from google.protobuf.message import Message

from . import proto as pb
from ._errors import AlreadyExists, ApiError, Cancelled, ClarifaiError, ClientError, MixedStatus, TooManyRequests
from ._input_ids import derive_input_id, random_input_id
from ._status import code_name
from .proto.clarifai.api.status import status_code_pb2

if TYPE_CHECKING:  # the message modules load on first use (``pb.Input``), not with the client
    from pathlib import Path

    from .proto import Data, Input, ListInputsRequest, PostInputsRequest, UserAppIDSet

MAX_INPUTS_PER_REQUEST = 128
MAX_REQUEST_BYTES = 128 * 1024 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024

Item = Union["Input", str, "Path", bytes]
IdMode = Literal["derived", "random"]
Progress = Callable[["UploadReport"], None]

_FAILED_ITEM_CODES = {
    status_code_pb2.INPUT_DOWNLOAD_FAILED,
    status_code_pb2.INPUT_INVALID_ARGUMENT,
    status_code_pb2.INPUT_INVALID_URL,
    status_code_pb2.INPUT_DUPLICATE,
    status_code_pb2.INPUT_OVER_LIMIT,
    status_code_pb2.FAILURE,
}
_MAX_PATH_CHARS = 4096


class InputLimitError(ClarifaiError, ValueError):
    """An item cannot be uploaded (it breaks one of the API's limits, or cannot be read as an input);
    nothing of its batch was sent."""


@dataclass(frozen=True)
class ItemFailure:
    """Why one input was not stored (or could not be confirmed): the Clarifai status code when the
    service gave one, else ``transport_code``, the gRPC code of the transport failure."""

    input_id: str
    code: int
    description: str
    transport_code: str = ""

    @property
    def code_name(self) -> str:
        if self.code:
            return code_name(self.code)
        return self.transport_code or "UNKNOWN"


@dataclass
class UploadReport:
    """Outcome per input id: ``succeeded``, ``already_present`` (the id existed: nothing new was
    written, e.g. on a rerun or after a retried batch whose first reply was lost), ``failed``
    (checked to be absent, or refused by the service) and ``unconfirmed`` (the service could not
    be asked whether they were stored). ``repeated`` lists ids whose item appeared more than once
    in the upload and was sent once."""

    succeeded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    failed: dict[str, ItemFailure] = field(default_factory=dict)
    unconfirmed: dict[str, ItemFailure] = field(default_factory=dict)
    repeated: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def done(self) -> int:
        return len(self.succeeded) + len(self.already_present) + len(self.failed) + len(self.unconfirmed)

    @property
    def handled(self) -> int:
        """Items dealt with so far, repeats included: what a count of the items given moves on."""
        return self.done + len(self.repeated)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unconfirmed

    def __str__(self) -> str:
        text = f"{len(self.succeeded)} uploaded, {len(self.already_present)} already present, {len(self.failed)} failed"
        if self.unconfirmed:
            text += f", {len(self.unconfirmed)} unconfirmed"
        if self.repeated:
            text += f", {len(self.repeated)} repeats skipped"
        return text + f" in {self.requests} requests"


def _failure(input_id: str, err: ApiError, description: str | None = None) -> ItemFailure:
    transport = err.grpc_code.name if err.grpc_code is not None else ""
    return ItemFailure(input_id, err.status_code, str(err) if description is None else description, transport)


# --- items to inputs --------------------------------------------------------------------------


def to_input(item: Item, ids: IdMode = "derived") -> Input:
    """An Input with an id from an Input, a URL, raw text, a file path or image bytes (see the module doc)."""
    inp, source = _content(item)
    if not inp.id:
        inp.id = derive_input_id(inp.data, source) if ids == "derived" else random_input_id()
    return inp


def _content(item: Item) -> tuple[Input, str]:
    """The Input for ``item`` (id as given) and its source path ("" when it has none)."""
    if isinstance(item, pb.Input):
        inp = pb.Input()
        inp.CopyFrom(item)
        return inp, ""
    if isinstance(item, bytes):
        return pb.Input(data=pb.Data(image=pb.Image(base64=item))), ""
    if _is_path(item):
        return _from_file(item), _source_path(item)
    if isinstance(item, str) and item.startswith(("http://", "https://")):
        return pb.Input(data=_url_data(_kind(item.split("?", 1)[0]), item)), ""
    if isinstance(item, str):
        if names_a_file(item):
            raise InputLimitError(
                f"{item!r} names an existing file: pass Path({item!r}) to upload the file, "
                "or an Input(data=Data(text=Text(raw=...))) to upload those words as text"
            )
        return pb.Input(data=pb.Data(text=pb.Text(raw=item))), ""
    raise InputLimitError(f"cannot upload a {type(item).__name__}: give an Input, URL, text, Path or bytes")


def _is_path(item: object) -> TypeGuard[Path]:
    """Whether ``item`` is a ``pathlib.Path``, without importing pathlib (with urllib and ipaddress,
    a twentieth of the package's import): a Path exists only once its module is loaded."""
    pathlib = sys.modules.get("pathlib")
    return pathlib is not None and isinstance(item, pathlib.Path)


def names_a_file(text: str) -> bool:
    """Whether ``text`` is the name of an existing file (such a string is refused as an item)."""
    if not text or len(text) > _MAX_PATH_CHARS or "\n" in text or "\0" in text:
        return False
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False


def _source_path(path: Path) -> str:
    try:
        return path.resolve().as_posix()
    except (OSError, RuntimeError):
        return path.absolute().as_posix()


def _kind(name: str) -> str:
    """The media kind a file name or URL path suggests (``image``, ``video``, ``audio``, ``text``...):
    ``image`` when its type is unknown."""
    import mimetypes  # here: it reads the system's type tables, so only uploads pay for it

    return (mimetypes.guess_type(name)[0] or "image/").split("/", 1)[0]


def _url_data(kind: str, url: str) -> Data:
    if kind == "video":
        return pb.Data(video=pb.Video(url=url))
    if kind == "audio":
        return pb.Data(audio=pb.Audio(url=url))
    if kind == "text":
        return pb.Data(text=pb.Text(url=url))
    return pb.Data(image=pb.Image(url=url))


def _from_file(path: Path) -> Input:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputLimitError(f"cannot read {path}: {exc.strerror}") from None
    kind = _kind(path.name)
    if kind == "video":
        return pb.Input(data=pb.Data(video=pb.Video(base64=raw)))
    if kind == "audio":
        return pb.Input(data=pb.Data(audio=pb.Audio(base64=raw)))
    if kind == "text":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputLimitError(
                f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "convert it to UTF-8 first, nothing was uploaded from it"
            ) from None
        return pb.Input(data=pb.Data(text=pb.Text(raw=text)))
    if len(raw) > MAX_IMAGE_BYTES:
        raise InputLimitError(f"{path} is {len(raw)} bytes; an image may be at most {MAX_IMAGE_BYTES} bytes")
    return pb.Input(data=pb.Data(image=pb.Image(base64=raw)))


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


def _check_ids_mode(ids: str) -> None:
    if ids not in ("derived", "random"):
        raise InputLimitError(f"ids must be 'derived' or 'random', got {ids!r}")


def batches(
    items: Iterable[Item],
    max_inputs: int = MAX_INPUTS_PER_REQUEST,
    max_bytes: int = MAX_REQUEST_BYTES,
    *,
    ids: IdMode = "derived",
    repeated: list[str] | None = None,
) -> Iterator[list[Input]]:
    """Inputs grouped into requests within the limits (a video always alone). Sends nothing.

    An item the same as an earlier one (same derived id) is skipped and its id appended to
    ``repeated``; two inputs that carry the same id of their own are refused.
    """
    if not 1 <= max_inputs <= MAX_INPUTS_PER_REQUEST:
        raise InputLimitError(f"max_inputs must be between 1 and {MAX_INPUTS_PER_REQUEST}, got {max_inputs}")
    _check_ids_mode(ids)
    seen: set[str] = set()
    batch: list[Input] = []
    size = 0
    for item in items:
        inp = to_input(item, ids)
        if inp.id in seen:
            if isinstance(item, pb.Input) and item.id:
                raise InputLimitError(f"input id {inp.id!r} appears twice in this upload")
            if repeated is not None:
                repeated.append(inp.id)
            continue
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


def _planned(items: Iterable[Item], max_inputs: int, ids: IdMode, repeated: list[str]) -> Iterable[list[Input]]:
    """Validate everything first when the items are a sequence, so a bad one stops the upload before any request."""
    planned = batches(items, max_inputs, ids=ids, repeated=repeated)
    if isinstance(items, Sequence) and not isinstance(items, (str, bytes)):
        return list(planned)
    return planned


# --- outcomes ---------------------------------------------------------------------------------


def fate_unknown(err: ApiError) -> bool:
    """Whether a failed PostInputs may still have stored its inputs: any failure but the service's
    own refusal of the request (a 4xx other than throttling or cancellation)."""
    return not isinstance(err, ClientError) or isinstance(err, (TooManyRequests, Cancelled))


class _Recorder:
    """Turns one batch's outcome into report entries; shared by the sync and async uploaders."""

    def __init__(self, report: UploadReport, progress: Progress | None) -> None:
        self.report = report
        self.progress = progress
        self.lock = threading.Lock()

    def success(self, batch: list[Input]) -> None:
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

    def checked(self, batch: list[Input], stored: set[str], err: ApiError, refused: bool) -> None:
        """A batch whose ids were looked up after ``err``: the stored ones are present (already, when
        the service refused them as known), the others are absent and failed with ``err``."""
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                if inp.id not in stored:
                    self.report.failed[inp.id] = _failure(inp.id, err)
                elif refused:
                    self.report.already_present.append(inp.id)
                else:
                    self.report.succeeded.append(inp.id)
            self._tick()

    def unconfirmed(self, batch: list[Input], err: ApiError, lookup: ApiError) -> None:
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                self.report.unconfirmed[inp.id] = _failure(
                    inp.id, err, f"{err}; whether it was stored is unknown, the lookup failed: {lookup}"
                )
            self._tick()

    def failure(self, batch: list[Input], err: ApiError) -> None:
        with self.lock:
            self.report.requests += 1
            for inp in batch:
                self.report.failed[inp.id] = _failure(inp.id, err)
            self._tick()

    def _tick(self) -> None:
        # Called with the lock held: callbacks never overlap, and each sees the report as it is then
        # (so the counts a callback sees only grow, and the last callback sees the final report).
        if self.progress is not None:
            self.progress(self.report)


def _request(batch: list[Input], user_app_id: UserAppIDSet | None) -> PostInputsRequest:
    req = pb.PostInputsRequest(inputs=batch)
    if user_app_id is not None:
        req.user_app_id.CopyFrom(user_app_id)
    return req


def _ids_request(batch: list[Input], user_app_id: UserAppIDSet | None) -> ListInputsRequest:
    req = pb.ListInputsRequest(ids=[i.id for i in batch], per_page=len(batch))
    if user_app_id is not None:
        req.user_app_id.CopyFrom(user_app_id)
    return req


Step = tuple[str, Message]
Steps = Generator[Step, Any, None]


def _post_batch(batch: list[Input], user_app_id: UserAppIDSet | None, recorder: _Recorder) -> Steps:
    """The calls one batch needs and how each outcome is recorded. Yields ``(rpc, request)`` and is
    sent back the response, or the ApiError the call raised.

    Refused for known ids, or failed in a way that may have stored it, the batch's ids are looked
    up: stored ones are recorded, the rest sent once more (the service writes a batch
    all-or-nothing, so a refused batch stored none of its new inputs).
    """
    resend = True
    while True:
        result = yield "PostInputs", _request(batch, user_app_id)
        if not isinstance(result, ApiError):
            recorder.success(batch)
            return
        if isinstance(result, MixedStatus):
            recorder.mixed(batch, result.response)
            return
        refused = isinstance(result, AlreadyExists)
        if not refused and not fate_unknown(result):
            recorder.failure(batch, result)
            return
        found = yield "ListInputs", _ids_request(batch, user_app_id)
        if isinstance(found, ApiError):
            recorder.unconfirmed(batch, result, found)
            return
        stored = {i.id for i in found.inputs}
        missing = [inp for inp in batch if inp.id not in stored]
        if not missing or not resend:
            recorder.checked(batch, stored, result, refused)
            return
        present = [inp for inp in batch if inp.id in stored]
        if present:
            recorder.checked(present, stored, result, refused)
        batch, resend = missing, False


def _drive(steps: Steps, call: Callable[[str, Any], Any]) -> None:
    try:
        step = next(steps)
        while True:
            try:
                result = call(*step)
            except ApiError as err:
                result = err
            step = steps.send(result)
    except StopIteration:
        return


async def _adrive(steps: Steps, call: Callable[[str, Any], Awaitable[Any]]) -> None:
    try:
        step = next(steps)
        while True:
            try:
                result = await call(*step)
            except ApiError as err:
                result = err
            step = steps.send(result)
    except StopIteration:
        return


def upload(
    call: Callable[[str, Any], Any],
    items: Iterable[Item],
    *,
    concurrency: int = 4,
    max_inputs: int = MAX_INPUTS_PER_REQUEST,
    user_app_id: UserAppIDSet | None = None,
    progress: Progress | None = None,
    ids: IdMode = "derived",
) -> UploadReport:
    """Post ``items`` in batches with at most ``concurrency`` requests in flight."""
    if concurrency < 1:
        raise InputLimitError(f"concurrency must be at least 1, got {concurrency}")
    _check_ids_mode(ids)
    recorder = _Recorder(UploadReport(), progress)

    def send(batch: list[Input]) -> None:
        _drive(_post_batch(batch, user_app_id, recorder), call)

    with concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="clarifai-upload") as pool:
        pending: set[concurrent.futures.Future[None]] = set()
        for batch in _planned(items, max_inputs, ids, recorder.report.repeated):
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
    ids: IdMode = "derived",
) -> UploadReport:
    """The ``asyncio`` twin of :func:`upload` (sync iterables only: batching is pure)."""
    if concurrency < 1:
        raise InputLimitError(f"concurrency must be at least 1, got {concurrency}")
    _check_ids_mode(ids)
    if not isinstance(items, Iterable):
        items = [x async for x in items]
    recorder = _Recorder(UploadReport(), progress)
    gate = asyncio.Semaphore(concurrency)

    async def send(batch: list[Input]) -> None:
        try:
            await _adrive(_post_batch(batch, user_app_id, recorder), call)
        finally:
            gate.release()

    tasks: list[asyncio.Task[None]] = []
    for batch in _planned(items, max_inputs, ids, recorder.report.repeated):
        await gate.acquire()  # a slot per request in flight; released when it finishes
        tasks = [t for t in tasks if not t.done() or t.result() is not None]
        tasks.append(asyncio.ensure_future(send(batch)))
    await asyncio.gather(*tasks)
    return recorder.report
