"""Ray Data: class-based UDFs for ``Dataset.map_batches``, one client per actor, made once.

    import ray
    from clarifai_grpc_client.integrations.ray import Predictor, Uploader

    ds = ray.data.read_parquet("s3://bucket/images/")             # columns: image_url (or image_bytes, text)
    out = ds.map_batches(Predictor, fn_constructor_kwargs={"model_id": "general-image-recognition"},
                         batch_format="pyarrow", batch_size=256, concurrency=4)

Each actor builds its client in ``__init__`` (from ``client=``: ``None`` reads the actor's
``CLARIFAI_*`` environment, e.g. set through ``runtime_env={"env_vars": ...}``), then every batch
goes through :func:`~clarifai_grpc_client.batch.predict_batch` or
:func:`~clarifai_grpc_client.batch.upload_batch`. Batches may come as ``pyarrow`` (best),
``pandas`` or ``numpy`` (a dict of arrays, answered as a ``pyarrow.Table``). Requests in flight
are at most ``concurrency`` (of ``map_batches``, the actors) times ``concurrency`` (of the UDF).

Uploads are safe under Ray's retries: a task retried after a worker died partway stores
nothing twice (ids derived from content and source); its rows come back ``already_present``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from ..batch import Columns, predict_batch, upload_batch
from ..proto import OutputConfig, UserAppIDSet
from ._workers import ClientSource, build_client

__all__ = ["Predictor", "Uploader"]


def _table(batch: Any) -> Any:
    """A ``numpy``-format batch (a dict of arrays) as an Arrow table; other batches as they are."""
    if isinstance(batch, Mapping):
        return pa.table({str(k): pa.array(list(v)) for k, v in batch.items()})
    return batch


class Predictor:
    """``ds.map_batches(Predictor, fn_constructor_kwargs={"model_id": ...}, batch_format="pyarrow", concurrency=N)``:
    adds the prediction columns of :func:`~clarifai_grpc_client.batch.predict_batch` to each batch."""

    def __init__(self, client: ClientSource = None, *, model_id: str, version_id: str = "",
                 columns: Columns | None = None, concurrency: int = 4, max_inputs: int = 32,
                 output_config: OutputConfig | None = None, user_app_id: UserAppIDSet | None = None,
                 keep_output: bool = False, timeout: float | None = None) -> None:
        self.client = build_client(client)
        self._options: dict[str, Any] = dict(model_id=model_id, version_id=version_id, columns=columns or Columns(),
                                             concurrency=concurrency, max_inputs=max_inputs,
                                             output_config=output_config, user_app_id=user_app_id,
                                             keep_output=keep_output, timeout=timeout)

    def __call__(self, batch: Any) -> Any:
        return predict_batch(self.client, _table(batch), **self._options)


class Uploader:
    """``ds.map_batches(Uploader, batch_format="pyarrow", concurrency=N)``: uploads each row as an
    input and adds ``input_id``, ``outcome``, ``status_code`` and ``error`` (see
    :func:`~clarifai_grpc_client.batch.upload_batch`)."""

    def __init__(self, client: ClientSource = None, *, columns: Columns | None = None, concurrency: int = 4,
                 max_inputs: int = 128, user_app_id: UserAppIDSet | None = None) -> None:
        self.client = build_client(client)
        self._options: dict[str, Any] = dict(columns=columns or Columns(), concurrency=concurrency,
                                             max_inputs=max_inputs, user_app_id=user_app_id)

    def __call__(self, batch: Any) -> Any:
        return upload_batch(self.client, _table(batch), **self._options)
