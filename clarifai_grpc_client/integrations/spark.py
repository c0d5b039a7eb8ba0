"""PySpark: functions for ``DataFrame.mapInArrow`` / ``mapInPandas``, and the schema of their output.

    from clarifai_grpc_client.integrations.spark import predict_arrow, predict_schema

    df = spark.read.parquet("s3://bucket/images/")                 # columns: image_url (or image_bytes, text)
    out = df.mapInArrow(predict_arrow(model_id="general-image-recognition"), predict_schema(df.schema))

The functions are built on the driver and shipped to the executors; each Python worker builds
its client on first use (from ``client=``: ``None`` reads the worker's ``CLARIFAI_*``
environment, e.g. set with ``spark.executorEnv.CLARIFAI_PAT``) and reuses it for every task it
runs. The output is the input's columns followed by the result columns of
:func:`~clarifai_grpc_client.batch.predict_batch` / :func:`~clarifai_grpc_client.batch.upload_batch`.

Uploads are safe under Spark's task retries (``spark.task.maxFailures``) and reruns: ids are
derived from content and source, so a retried task stores nothing twice and reports the rows
stored by the failed attempt ``already_present``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql import types as T

from .._batch_rows import UPLOAD_FIELDS
from ..batch import Columns, predict_batch, predict_fields, upload_batch
from ..proto import OutputConfig, UserAppIDSet
from ._workers import ClientSource, worker_client

__all__ = ["predict_arrow", "predict_pandas", "predict_schema", "upload_arrow", "upload_pandas", "upload_schema"]


def _spark_type(kind: Any) -> T.DataType:
    """The Spark SQL type of one of the result columns' Arrow types."""
    if pa.types.is_string(kind):
        return T.StringType()
    if pa.types.is_int32(kind):
        return T.IntegerType()
    if pa.types.is_float32(kind):
        return T.FloatType()
    if pa.types.is_binary(kind):
        return T.BinaryType()
    if pa.types.is_list(kind):
        return T.ArrayType(_spark_type(kind.value_type), containsNull=True)
    if pa.types.is_struct(kind):
        return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in kind])
    raise TypeError(f"no Spark type for {kind}")


def _schema(input_schema: T.StructType | None, fields: Sequence[tuple[str, Any]]) -> T.StructType:
    results = [T.StructField(name, _spark_type(kind), True) for name, kind in fields]
    names = {f.name for f in results}
    kept = [f for f in (input_schema.fields if input_schema is not None else []) if f.name not in names]
    return T.StructType(kept + results)


def predict_schema(input_schema: T.StructType | None = None, *, keep_output: bool = False) -> T.StructType:
    """The schema of :func:`predict_arrow`'s output: ``input_schema``'s columns, then the results."""
    return _schema(input_schema, predict_fields(keep_output))


def upload_schema(input_schema: T.StructType | None = None) -> T.StructType:
    """The schema of :func:`upload_arrow`'s output: ``input_schema``'s columns, then the results."""
    return _schema(input_schema, UPLOAD_FIELDS)


class _Partition:
    """What runs on an executor: every batch of a partition through ``work`` with this worker's client."""

    def __init__(self, work: str, client: ClientSource, options: dict[str, Any]) -> None:
        self._work = work
        self._client = client
        self._options = options
        self._key = uuid.uuid4().hex  # one client per worker process for this function, across its tasks

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        client = worker_client(self._client, self._key)
        run = predict_batch if self._work == "predict" else upload_batch
        for batch in batches:
            yield run(client, batch, **self._options)


def _predict_options(model_id: str, version_id: str, columns: Columns | None, concurrency: int, max_inputs: int,
                     output_config: OutputConfig | None, user_app_id: UserAppIDSet | None, keep_output: bool,
                     timeout: float | None) -> dict[str, Any]:
    return dict(model_id=model_id, version_id=version_id, columns=columns or Columns(), concurrency=concurrency,
                max_inputs=max_inputs, output_config=output_config, user_app_id=user_app_id,
                keep_output=keep_output, timeout=timeout)


def predict_arrow(client: ClientSource = None, *, model_id: str, version_id: str = "", columns: Columns | None = None,
                  concurrency: int = 4, max_inputs: int = 32, output_config: OutputConfig | None = None,
                  user_app_id: UserAppIDSet | None = None, keep_output: bool = False,
                  timeout: float | None = None) -> Any:
    """For ``df.mapInArrow(predict_arrow(model_id=...), predict_schema(df.schema))``."""
    return _Partition("predict", client, _predict_options(model_id, version_id, columns, concurrency, max_inputs,
                                                          output_config, user_app_id, keep_output, timeout))


def predict_pandas(client: ClientSource = None, *, model_id: str, version_id: str = "", columns: Columns | None = None,
                   concurrency: int = 4, max_inputs: int = 32, output_config: OutputConfig | None = None,
                   user_app_id: UserAppIDSet | None = None, keep_output: bool = False,
                   timeout: float | None = None) -> Any:
    """For ``df.mapInPandas(predict_pandas(model_id=...), predict_schema(df.schema))``."""
    return _Partition("predict", client, _predict_options(model_id, version_id, columns, concurrency, max_inputs,
                                                          output_config, user_app_id, keep_output, timeout))


def upload_arrow(client: ClientSource = None, *, columns: Columns | None = None, concurrency: int = 4,
                 max_inputs: int = 128, user_app_id: UserAppIDSet | None = None) -> Any:
    """For ``df.mapInArrow(upload_arrow(), upload_schema(df.schema))``."""
    options = dict(columns=columns or Columns(), concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id)
    return _Partition("upload", client, options)


def upload_pandas(client: ClientSource = None, *, columns: Columns | None = None, concurrency: int = 4,
                  max_inputs: int = 128, user_app_id: UserAppIDSet | None = None) -> Any:
    """For ``df.mapInPandas(upload_pandas(), upload_schema(df.schema))``."""
    options = dict(columns=columns or Columns(), concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id)
    return _Partition("upload", client, options)
