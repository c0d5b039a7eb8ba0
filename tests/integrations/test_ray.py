"""Ray Data (local, 2 CPUs) against the emulator: predictions for every row, and an upload that
survives a worker dying partway, storing every row exactly once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
pytest.importorskip("ray.data", reason="the ray extra is not installed")
import pyarrow as pa  # noqa: E402

from clarifai_grpc_client import derive_input_id  # noqa: E402
from clarifai_grpc_client.integrations.ray import Predictor, Uploader  # noqa: E402
from clarifai_grpc_client.proto import Data, Text  # noqa: E402

from ._flaky import CrashOnceUploader  # noqa: E402
from .conftest import ROWS, Service, check_prediction, stored_ids, text_of  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def engine(service: Service) -> Iterator[None]:
    """One local Ray runtime for the module, started after the worker environment is exported."""
    # A small object store; no killing of workers for memory other processes of the machine use.
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", configure_logging=False,
             object_store_memory=200 * 1024 * 1024)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


def _dataset(table: Any, blocks: int = 10) -> Any:
    """``table`` as a dataset of ``blocks`` blocks (so both actors get work)."""
    step = -(-table.num_rows // blocks)
    return ray.data.from_arrow([table.slice(i, step) for i in range(0, table.num_rows, step)])


def test_predicts_every_row_with_a_pickled_client(service: Service, engine: None) -> None:
    texts = [text_of(i) for i in range(ROWS)]
    table = pa.table({"text": texts + [None, "two contents"], "image_url": [None] * ROWS + [None, "https://x.test/a.png"]})
    out = _dataset(table).map_batches(
        Predictor, fn_constructor_kwargs={"client": service.client(), "model_id": "text-keywords", "max_inputs": 64},
        batch_format="pyarrow", batch_size=500, concurrency=2,
    ).take_all()
    assert len(out) == ROWS + 2
    by_text = {r["text"]: r for r in out}
    for text in texts:
        row = by_text[text]
        check_prediction(row)
        assert row["input_id"] == derive_input_id(Data(text=Text(raw=text)))
    bad = [r for r in out if r["text"] in (None, "two contents")]
    assert len(bad) == 2
    for row in bad:
        assert row["status_code"] == 0 and row["concepts"] is None and row["input_id"] is None
        assert "exactly one of image_bytes, image_url and text" in row["error"]


def test_upload_survives_a_worker_dying_partway(service: Service, engine: None, tmp_path: Path) -> None:
    texts = [text_of(i) for i in range(ROWS)]
    marker = texts[2345]
    # Two invalid rows: one the client refuses (no content), one the service refuses (its id).
    table = pa.table({"text": texts + [None, "refused by the service"], "id": [None] * (ROWS + 1) + ["not a valid id!"]})
    out = _dataset(table).map_batches(
        CrashOnceUploader, fn_constructor_kwargs={"marker": marker, "flag": str(tmp_path / "crashed")},
        batch_format="pyarrow", batch_size=500, concurrency=2,  # Ray Data restarts actors and retries their tasks
    ).take_all()

    assert (tmp_path / "crashed").exists(), "the worker never crashed: the retry was not exercised"
    assert len(out) == ROWS + 2
    good = {r["text"]: r for r in out if r["text"] in set(texts)}
    assert len(good) == ROWS
    outcomes = [r["outcome"] for r in good.values()]
    assert set(outcomes) == {"stored", "already_present"}
    assert outcomes.count("already_present") == 250  # the half the crashed attempt stored
    for text, row in good.items():
        assert row["input_id"] == derive_input_id(Data(text=Text(raw=text))) and row["status_code"] == 10000
    invalid = next(r for r in out if r["text"] is None)
    assert invalid["outcome"] == "invalid" and "exactly one of" in invalid["error"]
    refused = next(r for r in out if r["text"] == "refused by the service")
    assert refused["outcome"] == "failed" and refused["status_code"] != 10000 and refused["input_id"] == "not a valid id!"

    with service.client() as client:
        ids = stored_ids(client)
    assert len(ids) == ROWS  # each row exactly once, the invalid ones not at all
    assert set(ids) == {r["input_id"] for r in good.values()}

    # A rerun of the whole job stores nothing more.
    again = _dataset(table.slice(0, 1000), 2).map_batches(Uploader, batch_format="pyarrow", batch_size=500,
                                                          concurrency=1).take_all()
    assert {r["outcome"] for r in again} == {"already_present"}
    with service.client() as client:
        assert len(stored_ids(client)) == ROWS
