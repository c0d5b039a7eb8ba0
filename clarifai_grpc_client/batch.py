"""Prediction and upload over a whole batch (a ``pyarrow.Table``, ``RecordBatch`` or pandas ``DataFrame``).

Made for data engines (see :mod:`.integrations.ray` and :mod:`.integrations.spark`), usable
anywhere: a batch goes in, the same batch comes back with result columns added.

    from clarifai_grpc_client.batch import predict_batch, upload_batch

    out = predict_batch(client, table, model_id="general-embedding")   # + input_id, concepts, embedding, ...
    out = upload_batch(client, table)                                  # + input_id, outcome, status_code, error

Input columns (names set by :class:`Columns`): ``image_bytes``, ``image_url`` or ``text`` (one
per row), and optionally ``id``, ``metadata`` (a JSON object) and ``source``. One bad row never
fails the batch: a row that cannot be an input, or that the service refuses, carries its
``status_code`` and ``error`` and every other row is unaffected (a refused request is split
until the refusing row is alone). Calls go through the client, with its retries, deadlines
and throttling handling; at most ``concurrency`` requests of one batch are in flight.

Uploads name every row by its content and source (:func:`~._input_ids.derive_input_id`) unless
it has an ``id``, so a retried task or a rerun job stores each row once: rows stored before come
back ``already_present``. Configuration mistakes (no input column, bad settings) raise
:class:`BatchColumnsError` before anything is sent.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._batch_rows import (
    OUTCOMES,
    OUTPUT_FIELD,
    PREDICT_FIELDS,
    UPLOAD_FIELDS,
    BatchColumnsError,
    Columns,
    RowInput,
    RowProblem,
    RowResult,
    num_rows,
    output_result,
    problem_result,
    read_columns,
    result_arrays,
    row_id,
    rows,
    with_results,
)
from ._client import Client
from ._errors import ApiError, ClientError, TooManyRequests
from ._status import SUCCESS
from ._upload import MAX_INPUTS_PER_REQUEST, ItemFailure, UploadReport
from .proto import Input, Model, OutputConfig, OutputInfo, PostModelOutputsRequest, UserAppIDSet

__all__ = [
    "OUTCOMES",
    "PREDICT_FIELDS",
    "UPLOAD_FIELDS",
    "BatchColumnsError",
    "Columns",
    "predict_batch",
    "predict_fields",
    "row_id",
    "upload_batch",
]

B = TypeVar("B")
_DEFAULT_COLUMNS = Columns()


def predict_fields(keep_output: bool = False) -> list[tuple[str, Any]]:
    """The ``(name, Arrow type)`` of each column :func:`predict_batch` adds, in order."""
    return [*PREDICT_FIELDS, OUTPUT_FIELD] if keep_output else list(PREDICT_FIELDS)


def _check_settings(concurrency: int, max_inputs: int) -> None:
    if concurrency < 1:
        raise BatchColumnsError(f"concurrency must be at least 1, got {concurrency}")
    if not 1 <= max_inputs <= MAX_INPUTS_PER_REQUEST:
        raise BatchColumnsError(f"max_inputs must be between 1 and {MAX_INPUTS_PER_REQUEST}, got {max_inputs}")


def _chunks(items: Sequence[RowInput], size: int) -> list[list[RowInput]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _run(work: Callable[[list[RowInput]], None], chunks: list[list[RowInput]], concurrency: int) -> None:
    """``work`` on every chunk, at most ``concurrency`` at a time (inline when one is enough)."""
    if concurrency == 1 or len(chunks) <= 1:
        for chunk in chunks:
            work(chunk)
        return
    with concurrent.futures.ThreadPoolExecutor(min(concurrency, len(chunks)), thread_name_prefix="clarifai-batch") as pool:
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result()


# --- prediction -------------------------------------------------------------------------------


def predict_batch(
    client: Client,
    batch: B,
    *,
    model_id: str,
    version_id: str = "",
    columns: Columns = _DEFAULT_COLUMNS,
    concurrency: int = 4,
    max_inputs: int = 32,
    output_config: OutputConfig | None = None,
    user_app_id: UserAppIDSet | None = None,
    keep_output: bool = False,
    timeout: float | None = None,
) -> B:
    """``batch`` with the prediction of ``model_id`` for every row (columns: :func:`predict_fields`).

    Requests carry up to ``max_inputs`` rows each. ``keep_output=True`` adds ``output``, the
    whole ``Output.data`` serialized (``Data.FromString``), for outputs beyond concepts,
    embeddings and text. ``timeout`` bounds each request, its retries included."""
    if not model_id:
        raise BatchColumnsError("predict_batch needs a model_id")
    _check_settings(concurrency, max_inputs)
    count = num_rows(batch)
    planned = rows(read_columns(batch, columns), count)
    results: list[RowResult | None] = [None] * count
    good: list[RowInput] = []
    for item in planned:
        if isinstance(item, RowProblem):
            results[item.index] = problem_result(item)
        else:
            good.append(item)

    def request(chunk: list[RowInput]) -> PostModelOutputsRequest:
        req = PostModelOutputsRequest(model_id=model_id, version_id=version_id, inputs=[r.input for r in chunk])
        if output_config is not None:
            req.model.CopyFrom(Model(output_info=OutputInfo(output_config=output_config)))
        if user_app_id is not None:
            req.user_app_id.CopyFrom(user_app_id)
        return req

    def work(chunk: list[RowInput]) -> None:
        try:
            response = client.call("PostModelOutputs", request(chunk), timeout=timeout)
        except ApiError as err:
            outputs = getattr(err.response, "outputs", None)
            if outputs is not None and len(outputs) == len(chunk):
                _record_outputs(chunk, outputs, results, keep_output)
            elif len(chunk) > 1 and isinstance(err, ClientError) and not isinstance(err, TooManyRequests):
                half = len(chunk) // 2  # the request was refused as a whole: find the row it refused
                work(chunk[:half])
                work(chunk[half:])
            else:
                for r in chunk:
                    results[r.index] = RowResult(r.input.id, err.status_code, str(err))
            return
        _record_outputs(chunk, response.outputs, results, keep_output)

    _run(work, _chunks(good, max_inputs), concurrency)
    done = [r if r is not None else RowResult(None, 0, "no result") for r in results]
    return with_results(batch, result_arrays(done, predict_fields(keep_output)))  # type: ignore[no-any-return]


def _record_outputs(chunk: list[RowInput], outputs: Sequence[Any], results: list[RowResult | None], keep_output: bool) -> None:
    """Match outputs to rows by input id (the API answers in request order, which is the fallback)."""
    by_id = {o.input.id: o for o in outputs if o.input.id}
    for position, r in enumerate(chunk):
        output = by_id.get(r.input.id)
        if output is None and position < len(outputs) and not outputs[position].input.id:
            output = outputs[position]
        if output is None:
            results[r.index] = RowResult(r.input.id, 0, "the service returned no output for this input")
        else:
            results[r.index] = output_result(r.input.id, output, keep_output)


# --- upload -----------------------------------------------------------------------------------


def upload_batch(
    client: Client,
    batch: B,
    *,
    columns: Columns = _DEFAULT_COLUMNS,
    concurrency: int = 4,
    max_inputs: int = MAX_INPUTS_PER_REQUEST,
    user_app_id: UserAppIDSet | None = None,
) -> B:
    """``batch`` with every row uploaded as an input (columns: :data:`UPLOAD_FIELDS`).

    Each row's ``outcome`` is one of :data:`OUTCOMES`; ``stored`` and ``already_present`` rows
    have ``status_code`` SUCCESS. Rows with the same content and source are one input: the first
    is uploaded and the others report ``already_present``. Two rows giving the same ``id`` to
    different content are refused (the later ones). Through ``client.upload_inputs``: a request
    of unknown fate is looked up by id before it is reported, never reported failed if stored."""
    _check_settings(concurrency, max_inputs)
    count = num_rows(batch)
    planned = rows(read_columns(batch, columns), count)
    results: list[RowResult | None] = [None] * count
    first: dict[str, RowInput] = {}
    repeats: list[RowInput] = []
    for item in planned:
        if isinstance(item, RowProblem):
            results[item.index] = problem_result(item)
            continue
        known = first.get(item.input.id)
        if known is None:
            first[item.input.id] = item
        elif known.input.data == item.input.data:
            repeats.append(item)
        else:
            results[item.index] = RowResult(item.input.id, 0, f"invalid row: id {item.input.id!r} is given to "
                                            f"another row of this batch with different content", outcome="invalid")
    unique = list(first.values())
    outcome = _upload_all(client, [r.input for r in unique], concurrency, max_inputs, user_app_id) if unique else {}
    for r in unique:
        results[r.index] = outcome[r.input.id]
    for r in repeats:
        res = outcome[r.input.id]
        stored = res.outcome in ("stored", "already_present")
        results[r.index] = RowResult(r.input.id, res.status_code, res.error,
                                     outcome="already_present" if stored else res.outcome)
    done = [r if r is not None else RowResult(None, 0, "no result") for r in results]
    return with_results(batch, result_arrays(done, UPLOAD_FIELDS))  # type: ignore[no-any-return]


def _refused_in_batch(failure: ItemFailure) -> bool:
    """A failure that may belong to another input of the same request: the service refuses a
    request with one invalid input as a whole (the 30000s are the input codes)."""
    return 30000 <= failure.code < 40000


def _upload_all(client: Client, inputs: list[Input], concurrency: int, max_inputs: int,
                user_app_id: UserAppIDSet | None) -> dict[str, RowResult]:
    """Upload ``inputs`` (unique ids); inputs refused with their request are sent once more alone."""
    report = client.upload_inputs(inputs, concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id)
    outcome = _outcomes(report)
    again = [i for i in inputs if i.id in report.failed and _refused_in_batch(report.failed[i.id])]
    if max_inputs > 1 and len(again) > 0 and len(inputs) > 1:
        alone = client.upload_inputs(again, concurrency=concurrency, max_inputs=1, user_app_id=user_app_id)
        outcome.update(_outcomes(alone))
    return outcome


def _outcomes(report: UploadReport) -> dict[str, RowResult]:
    out: dict[str, RowResult] = {}
    for i in report.succeeded:
        out[i] = RowResult(i, SUCCESS, outcome="stored")
    for i in report.already_present:
        out[i] = RowResult(i, SUCCESS, outcome="already_present")
    for kind, failures in (("failed", report.failed), ("unconfirmed", report.unconfirmed)):
        for i, f in failures.items():
            out[i] = RowResult(i, f.code, f"{f.code_name}: {f.description}", outcome=kind)
    return out
