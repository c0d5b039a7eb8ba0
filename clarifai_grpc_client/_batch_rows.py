"""Rows of a batch to inputs, and results back to columns: the pure half of :mod:`.batch`.

A batch is a ``pyarrow.Table``, a ``pyarrow.RecordBatch`` or a pandas ``DataFrame``. Its input
columns are read as Python values (:func:`read_columns`), each row becomes an ``Input`` or the
reason it cannot be one (:func:`row_input`), and the results, one :class:`RowResult` per row,
are written back as Arrow columns of fixed types (:data:`PREDICT_FIELDS`, :data:`UPLOAD_FIELDS`)
beside the batch's own columns (:func:`with_results`). No I/O happens here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ._input_ids import derive_input_id
from ._status import SUCCESS
from ._upload import InputLimitError, check_input
from .proto import Data, Input, Output

CONCEPT_TYPE = pa.struct([("id", pa.string()), ("name", pa.string()), ("value", pa.float32())])

#: The result columns :func:`~.batch.predict_batch` adds, in order, with their Arrow types.
PREDICT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("input_id", pa.string()),
    ("concepts", pa.list_(CONCEPT_TYPE)),
    ("embedding", pa.list_(pa.float32())),
    ("output_text", pa.string()),
    ("status_code", pa.int32()),
    ("error", pa.string()),
)
#: The optional column of the whole ``Output.data`` (``keep_output=True``), serialized.
OUTPUT_FIELD: tuple[str, Any] = ("output", pa.binary())
#: The result columns :func:`~.batch.upload_batch` adds, in order, with their Arrow types.
UPLOAD_FIELDS: tuple[tuple[str, Any], ...] = (
    ("input_id", pa.string()),
    ("outcome", pa.string()),
    ("status_code", pa.int32()),
    ("error", pa.string()),
)

#: Outcomes of an uploaded row: ``stored`` now, ``already_present`` (its id was stored before:
#: a rerun, a retried task, or the same content twice), ``failed`` (checked to be absent or
#: refused), ``unconfirmed`` (the service could not be asked; a rerun settles it), ``invalid``
#: (the row cannot be an input; nothing was sent for it).
OUTCOMES = ("stored", "already_present", "failed", "unconfirmed", "invalid")


# Rows whose payload is at most this many bytes (or characters) cannot break the API's limits.
_CHECK_ABOVE = 1024 * 1024


class BatchColumnsError(ValueError):
    """The batch has none of the input columns, or a column setting is unusable; nothing was sent."""


@dataclass(frozen=True)
class Columns:
    """The names of the input columns. Absent columns are fine; a row needs exactly one of
    ``image_bytes``, ``image_url`` and ``text``. ``id`` gives the input id (else it is derived
    from the content and ``source``), ``metadata`` a JSON object (a ``dict`` or its JSON text),
    and ``source`` where the content came from (a file path or bucket key), used only to derive ids."""

    image_bytes: str = "image_bytes"
    image_url: str = "image_url"
    text: str = "text"
    id: str = "id"
    metadata: str = "metadata"
    source: str = "source"

    def content(self) -> tuple[str, str, str]:
        return (self.image_bytes, self.image_url, self.text)


@dataclass
class RowResult:
    """What happened to one row; ``status_code`` is the Clarifai code (0 when the service gave
    none: the row was refused before sending, or the transport failed)."""

    input_id: str | None
    status_code: int
    error: str | None = None
    outcome: str | None = None
    concepts: list[dict[str, Any]] | None = None
    embedding: list[float] | None = None
    output_text: str | None = None
    output: bytes | None = None


@dataclass(frozen=True)
class RowInput:
    """A row that became an ``Input`` (with its id set)."""

    index: int
    input: Input


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot become an ``Input``, and why."""

    index: int
    input_id: str | None
    reason: str


# --- reading ----------------------------------------------------------------------------------


def is_pandas(batch: Any) -> bool:
    return type(batch).__module__.split(".", 1)[0] == "pandas"


def check_batch(batch: Any) -> None:
    if not (is_pandas(batch) or isinstance(batch, (pa.Table, pa.RecordBatch))):
        raise BatchColumnsError(
            f"a batch must be a pyarrow.Table, pyarrow.RecordBatch or pandas.DataFrame, got {type(batch).__name__}"
        )


def num_rows(batch: Any) -> int:
    check_batch(batch)
    return len(batch) if is_pandas(batch) else int(batch.num_rows)


def column_names(batch: Any) -> list[str]:
    return [str(c) for c in batch.columns] if is_pandas(batch) else list(batch.schema.names)


def read_columns(batch: Any, columns: Columns) -> dict[str, list[Any]]:
    """The batch's input columns as lists of Python values, keyed by their ``Columns`` field name."""
    check_batch(batch)
    present = set(column_names(batch))
    if not present.intersection(columns.content()):
        raise BatchColumnsError(
            f"the batch has none of the input columns {', '.join(map(repr, columns.content()))} "
            f"(its columns: {', '.join(sorted(present)) or 'none'}); name them with Columns(...)"
        )
    out: dict[str, list[Any]] = {}
    for field in ("image_bytes", "image_url", "text", "id", "metadata", "source"):
        name = getattr(columns, field)
        if name in present:
            out[field] = batch[name].tolist() if is_pandas(batch) else batch.column(name).to_pylist()
    return out


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (str, bytes, bytearray)) and len(value) == 0


def _metadata(value: Any) -> dict[str, Any] | str:
    """The metadata as a dict, or the reason it is not a JSON object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            return f"metadata is not valid JSON ({exc})"
    if not isinstance(value, Mapping):
        return f"metadata must be a JSON object, got {type(value).__name__}"
    return dict(value)


def row_input(values: Mapping[str, Any], index: int) -> RowInput | RowProblem:
    """One row's ``Input`` (id given, or derived from its data and source), or why it has none."""
    given_id = values.get("id")
    input_id = None if _missing(given_id) else given_id
    if input_id is not None and not isinstance(input_id, str):
        return RowProblem(index, None, f"id must be a string, got {type(input_id).__name__}")
    content = {k: values.get(k) for k in ("image_bytes", "image_url", "text") if not _missing(values.get(k))}
    if len(content) != 1:
        what = "none" if not content else " and ".join(sorted(content))
        return RowProblem(index, input_id, f"a row needs exactly one of image_bytes, image_url and text; it has {what}")
    (kind, value), = content.items()
    inp = Input()
    data = inp.data  # filled in place: no copies of the payload
    if kind == "image_bytes":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return RowProblem(index, input_id, f"image_bytes must be bytes, got {type(value).__name__}")
        data.image.base64 = bytes(value)
    elif kind == "image_url":
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            return RowProblem(index, input_id, f"image_url must be an http:// or https:// URL, got {value!r:.80}")
        data.image.url = value
    else:
        if not isinstance(value, str):
            return RowProblem(index, input_id, f"text must be a string, got {type(value).__name__}")
        data.text.raw = value
    meta = values.get("metadata")
    if not _missing(meta):
        parsed = _metadata(meta)
        if isinstance(parsed, str):
            return RowProblem(index, input_id, parsed)
        try:
            data.metadata.update(parsed)
        except (ValueError, TypeError) as exc:
            return RowProblem(index, input_id, f"metadata cannot be stored: {exc}")
    source = values.get("source")
    source = "" if _missing(source) else source
    if not isinstance(source, str):
        return RowProblem(index, input_id, f"source must be a string, got {type(source).__name__}")
    inp.id = input_id if input_id is not None else row_id(data, source)
    if len(value) > _CHECK_ABOVE or meta is not None:  # smaller payloads are far within every limit
        try:
            check_input(inp)
        except InputLimitError as exc:
            return RowProblem(index, inp.id, str(exc))
    return RowInput(index, inp)


def row_id(data: Data, source: str) -> str:
    """The input id of a row: derived from its data and source, like ``Client.upload_inputs``
    names a file (so the same row always gets the same id, in any worker or rerun)."""
    return derive_input_id(data, source)


def rows(columns: Mapping[str, Sequence[Any]], count: int) -> list[RowInput | RowProblem]:
    """Every row of the batch as an input or a problem, in order."""
    names = list(columns)
    return [row_input({n: columns[n][i] for n in names}, i) for i in range(count)]


# --- results ----------------------------------------------------------------------------------


def problem_result(problem: RowProblem) -> RowResult:
    return RowResult(problem.input_id, 0, f"invalid row: {problem.reason}", outcome="invalid")


def output_result(input_id: str, output: Output, keep_output: bool) -> RowResult:
    """A prediction's row result: its concepts, first embedding and text, or its failing status."""
    code = output.status.code
    if code != SUCCESS:
        text = output.status.description or "the model failed on this input"
        if output.status.details:
            text += f" ({output.status.details})"
        return RowResult(input_id, code, text)
    data = output.data
    return RowResult(
        input_id,
        code,
        concepts=[{"id": c.id, "name": c.name, "value": c.value} for c in data.concepts],
        embedding=list(data.embeddings[0].vector) if len(data.embeddings) else None,
        output_text=data.text.raw if data.text.raw else None,
        output=data.SerializeToString(deterministic=True) if keep_output else None,
    )


def result_arrays(results: Sequence[RowResult], fields: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """The result columns as Arrow arrays of the declared types."""
    return {name: pa.array([getattr(r, name) for r in results], type=kind) for name, kind in fields}


def with_results(batch: Any, arrays: Mapping[str, Any]) -> Any:
    """``batch`` with the result columns added (a column of the same name is replaced), as the same type."""
    if is_pandas(batch):
        out = batch.copy(deep=False)
        for name, array in arrays.items():
            series = array.to_pandas()
            series.index = out.index
            out[name] = series
        return out
    names = list(batch.schema.names)
    cols = list(batch.columns)
    fields = list(batch.schema)
    for name, array in arrays.items():
        field = pa.field(name, array.type)
        if name in names:
            i = names.index(name)
            cols[i], fields[i] = array, field
        else:
            names.append(name)
            cols.append(array)
            fields.append(field)
    schema = pa.schema(fields, metadata=batch.schema.metadata)
    if isinstance(batch, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(cols, schema=schema)
    return pa.Table.from_arrays(cols, schema=schema)
