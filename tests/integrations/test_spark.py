"""PySpark (``local[2,2]``: two cores, a failed task retried once) against the emulator:
predictions for every row through mapInArrow and mapInPandas, and an upload whose task fails
partway and is retried by Spark, storing every row exactly once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (.ci/run installs Debian's default-jre-headless)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from clarifai_grpc_client import derive_input_id  # noqa: E402
from clarifai_grpc_client.integrations.spark import (  # noqa: E402
    predict_arrow,
    predict_pandas,
    predict_schema,
    upload_arrow,
    upload_pandas,
    upload_schema,
)
from clarifai_grpc_client.proto import Data, Text  # noqa: E402

from ._flaky import fail_once  # noqa: E402
from .conftest import ROWS, Service, check_prediction, stored_ids, text_of  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def spark(service: Service) -> Iterator[Any]:
    """One local session for the module (2 cores, each task tried at most twice), started after
    the worker environment is exported so its Python workers inherit it."""
    session = (SparkSession.builder.master("local[2,2]").appName("clarifai-bulk-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def _frame(spark: Any, rows: list[tuple[Any, ...]], ddl: str, partitions: int = 8) -> Any:
    return spark.createDataFrame(rows, ddl).repartition(partitions)


@pytest.mark.parametrize("api", ["arrow", "pandas"])
def test_predicts_every_row(service: Service, spark: Any, api: str) -> None:
    texts = [text_of(i) for i in range(ROWS)]
    df = _frame(spark, [(t, None) for t in texts] + [(None, None), ("two contents", "https://x.test/a.png")],
                "text string, image_url string")
    if api == "arrow":  # the client travels pickled in the function
        out = df.mapInArrow(predict_arrow(service.client(), model_id="text-keywords", max_inputs=64),
                            predict_schema(df.schema))
    else:  # the client is built by each worker from its environment
        out = df.mapInPandas(predict_pandas(model_id="text-keywords", max_inputs=64), predict_schema(df.schema))
    rows = [r.asDict(recursive=True) for r in out.collect()]
    assert len(rows) == ROWS + 2
    by_text = {r["text"]: r for r in rows}
    for text in texts:
        check_prediction(by_text[text])
        assert by_text[text]["input_id"] == derive_input_id(Data(text=Text(raw=text)))
    bad = [r for r in rows if r["text"] in (None, "two contents")]
    assert len(bad) == 2
    for row in bad:
        assert row["status_code"] == 0 and row["concepts"] is None
        assert "exactly one of image_bytes, image_url and text" in row["error"]


def test_upload_survives_a_failed_task(service: Service, spark: Any, tmp_path: Path) -> None:
    texts = [text_of(i) for i in range(ROWS)]
    marker = texts[4321]
    flag = str(tmp_path / "failed")
    df = _frame(spark, [(t, None) for t in texts] + [(None, None), ("refused by the service", "not a valid id!")],
                "text string, id string")
    out = df.mapInArrow(fail_once(upload_arrow(), marker, flag), upload_schema(df.schema))
    rows = [r.asDict() for r in out.collect()]

    assert (tmp_path / "failed").exists(), "no task failed: the retry was not exercised"
    assert len(rows) == ROWS + 2  # the failed attempt's output is discarded by Spark
    good = {r["text"]: r for r in rows if r["text"] in set(texts)}
    assert len(good) == ROWS
    outcomes = [r["outcome"] for r in good.values()]
    assert set(outcomes) == {"stored", "already_present"}
    assert 0 < outcomes.count("already_present") <= 250  # what the failed attempt stored before failing
    for text, row in good.items():
        assert row["input_id"] == derive_input_id(Data(text=Text(raw=text))) and row["status_code"] == 10000
    invalid = next(r for r in rows if r["text"] is None)
    assert invalid["outcome"] == "invalid" and "exactly one of" in invalid["error"]
    refused = next(r for r in rows if r["text"] == "refused by the service")
    assert refused["outcome"] == "failed" and refused["status_code"] != 10000

    with service.client() as client:
        ids = stored_ids(client)
    assert len(ids) == ROWS  # each row exactly once, the invalid ones not at all
    assert set(ids) == {r["input_id"] for r in good.values()}

    # A rerun through mapInPandas stores nothing more.
    again = _frame(spark, [(t, None) for t in texts[:1000]], "text string, id string", 2)
    outcomes_again = {r["outcome"] for r in again.mapInPandas(upload_pandas(), upload_schema(again.schema)).collect()}
    assert outcomes_again == {"already_present"}
    with service.client() as client:
        assert len(stored_ids(client)) == ROWS
