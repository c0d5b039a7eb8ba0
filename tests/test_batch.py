"""Batch prediction and upload (clarifai_grpc_client.batch) against the emulator over both
transports, and against a scripted server for a request refused as a whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow", reason="the bulk extra is not installed")
pd = pytest.importorskip("pandas", reason="the bulk extra is not installed")

from clarifai_grpc_client import Client, RetryPolicy, derive_input_id  # noqa: E402
from clarifai_grpc_client.batch import (  # noqa: E402
    PREDICT_FIELDS,
    UPLOAD_FIELDS,
    BatchColumnsError,
    Columns,
    predict_batch,
    predict_fields,
    upload_batch,
)
from clarifai_grpc_client.emulator import Emulator  # noqa: E402
from clarifai_grpc_client.emulator import imaging, models  # noqa: E402
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID  # noqa: E402
from clarifai_grpc_client.proto import (  # noqa: E402
    Concept,
    Data,
    Image,
    ListInputsRequest,
    MultiOutputResponse,
    Output,
    OutputConfig,
    Text,
)
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2 as SC  # noqa: E402

from .conftest import ScriptedServer, status_response  # noqa: E402

KEY = "batch-test-key"
FAST = RetryPolicy(initial_backoff=0.001, max_backoff=0.02)
PNG = imaging.encode_png(2, 2, bytes([250, 10, 10] * 4))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(keys=[KEY]) as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator, transport: str) -> Iterator[Client]:
    base = f"grpc://{emulator.grpc_target}" if transport == "grpc" else emulator.http_base
    with Client(transport, base, pat=KEY, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID, retry=FAST) as c:  # type: ignore[arg-type]
        yield c


def keywords(text: str) -> list[tuple[str, float]]:
    return [(c.id, c.value) for c in models.predict_keywords(Data(text=Text(raw=text)), OutputConfig()).concepts]


def stored(client: Client) -> list[str]:
    return [i.id for i in client.iter_items("ListInputs", ListInputsRequest(), per_page=1000)]


TEXTS = ["a football match", "pizza and coffee for breakfast", "rain and wind", "nothing to see"]


# --- prediction -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["table", "record_batch", "pandas"])
def test_predict_keeps_the_batch_type_and_adds_the_result_columns(client: Client, kind: str) -> None:
    table = pa.table({"text": TEXTS, "other": [1, 2, 3, 4]})
    batch = {"table": table, "record_batch": table.to_batches()[0], "pandas": table.to_pandas()}[kind]
    out = predict_batch(client, batch, model_id="text-keywords", max_inputs=2, concurrency=2)
    assert type(out) is type(batch)
    rows = out.to_dict("records") if kind == "pandas" else out.to_pylist()
    names = list(out.columns) if kind == "pandas" else out.schema.names
    assert names == ["text", "other"] + [n for n, _ in PREDICT_FIELDS]
    if kind != "pandas":
        assert [out.schema.field(n).type for n, _ in PREDICT_FIELDS] == [t for _, t in PREDICT_FIELDS]
    for text, row in zip(TEXTS, rows):
        assert row["status_code"] == 10000
        assert [(c["id"], pytest.approx(c["value"])) for c in row["concepts"]] == keywords(text)
        assert row["input_id"] == derive_input_id(Data(text=Text(raw=text)))
        assert row["other"] == TEXTS.index(text) + 1


def test_per_input_failures_stay_in_their_rows(client: Client) -> None:
    table = pa.table({"text": ["a dog and a cat", None, "tennis"], "image_bytes": [None, PNG, None]})
    rows = predict_batch(client, table, model_id="text-keywords").to_pylist()
    assert rows[0]["status_code"] == 10000 and rows[2]["status_code"] == 10000
    assert rows[1]["status_code"] == SC.MODEL_INVALID_ARGUMENT and "text inputs" in rows[1]["error"]
    assert rows[1]["concepts"] is None and rows[1]["input_id"] == derive_input_id(Data(image=Image(base64=PNG)))


def test_embeddings_and_whole_outputs(client: Client) -> None:
    table = pa.table({"image_bytes": [PNG, None], "text": [None, "green forest"], "id": ["img-1", None]})
    rows = predict_batch(client, table, model_id="general-embedding", keep_output=True).to_pylist()
    assert rows[0]["input_id"] == "img-1"
    for row, data in zip(rows, [Data(image=Image(base64=PNG)), Data(text=Text(raw="green forest"))]):
        assert row["status_code"] == 10000
        assert row["embedding"] == pytest.approx(models.embed(data), abs=1e-6)
        assert list(Data.FromString(row["output"]).embeddings[0].vector) == pytest.approx(row["embedding"])
    assert [n for n, _ in predict_fields(keep_output=True)][-1] == "output"


def test_invalid_rows_are_reported_and_nothing_is_sent_for_them(client: Client) -> None:
    df = pd.DataFrame({
        "text": ["ok one", None, None, "x", "ok two", "meta", "meta2", "src", "id"],
        "image_url": [None, None, "ftp://host/a.png", "https://h/a.png", None, None, None, None, None],
        "image_bytes": [None, None, None, None, None, None, None, None, None],
        "metadata": [None, None, None, None, '{"k": 1}', "{not json", "[1, 2]", None, None],
        "source": [None, None, None, None, None, None, None, 7, None],
        "id": [None, None, None, None, None, None, None, None, 5],
    })
    rows = predict_batch(client, df, model_id="text-keywords").to_dict("records")
    errors = [r["error"] if r["status_code"] != 10000 else None for r in rows]
    assert errors[0] is None and errors[4] is None
    assert "it has none" in errors[1]
    assert "http:// or https://" in errors[2]
    assert "image_url and text" in errors[3]
    assert "not valid JSON" in errors[5]
    assert "must be a JSON object, got list" in errors[6]
    assert "source must be a string" in errors[7]
    assert "id must be a string" in errors[8]
    assert all(rows[i]["status_code"] == 0 for i in (1, 2, 3, 5, 6, 7, 8))


def test_throttling_is_ridden_out_by_the_client(client: Client, emulator: Emulator) -> None:
    emulator.faults.fail_next("PostModelOutputs", 2, "throttled")
    rows = predict_batch(client, pa.table({"text": TEXTS}), model_id="text-keywords", max_inputs=1).to_pylist()
    assert [r["status_code"] for r in rows] == [10000] * 4


def test_a_failing_request_fails_only_its_rows(client: Client, emulator: Emulator) -> None:
    """When the retries run out, the rows of that request carry the error; the others succeed."""
    client = client.with_options(retry=FAST.replace(max_attempts=1))
    emulator.faults.fail_next("PostModelOutputs", 1, "unavailable")
    rows = predict_batch(client, pa.table({"text": TEXTS}), model_id="text-keywords", max_inputs=2,
                         concurrency=1).to_pylist()
    assert [r["status_code"] == 10000 for r in rows] == [False, False, True, True]
    assert all("UNAVAILABLE" in r["error"] or "unavailable" in r["error"].lower() for r in rows[:2])


def test_a_request_refused_as_a_whole_is_split_until_the_bad_row_is_alone(scripted: ScriptedServer,
                                                                             transport: str) -> None:
    def answer(request: Any) -> Any:
        if any(i.data.text.raw == "poison" for i in request.inputs):
            return status_response("PostModelOutputs", SC.INPUT_INVALID_ARGUMENT, "a bad input")
        resp = MultiOutputResponse(outputs=[Output(input=i, data=Data(concepts=[Concept(id="c", name="c", value=0.5)]))
                                            for i in request.inputs])
        for o in resp.outputs:
            o.status.code = SC.SUCCESS
        resp.status.code = SC.SUCCESS
        return resp

    scripted.script.default["PostModelOutputs"] = answer
    texts = [f"row {i}" for i in range(32)]
    texts[13] = "poison"
    with Client(transport, scripted.base(transport), pat="k", user_id="u", app_id="a", retry=FAST) as c:  # type: ignore[arg-type]
        rows = predict_batch(c, pa.table({"text": texts}), model_id="m", max_inputs=32).to_pylist()
    assert [r["status_code"] for r in rows] == [10000] * 13 + [SC.INPUT_INVALID_ARGUMENT] + [10000] * 18
    assert "a bad input" in rows[13]["error"]
    assert len(scripted.script.calls("PostModelOutputs")) <= 1 + 2 * 5  # one split per level, 32 -> 1


def test_configuration_mistakes_raise_before_anything_is_sent(client: Client) -> None:
    with pytest.raises(BatchColumnsError, match="none of the input columns"):
        predict_batch(client, pa.table({"caption": ["x"]}), model_id="text-keywords")
    with pytest.raises(BatchColumnsError, match="pyarrow.Table"):
        predict_batch(client, [{"text": "x"}], model_id="text-keywords")
    with pytest.raises(BatchColumnsError, match="model_id"):
        predict_batch(client, pa.table({"text": ["x"]}), model_id="")
    with pytest.raises(BatchColumnsError, match="concurrency"):
        upload_batch(client, pa.table({"text": ["x"]}), concurrency=0)
    with pytest.raises(BatchColumnsError, match="max_inputs"):
        upload_batch(client, pa.table({"text": ["x"]}), max_inputs=129)
    assert stored(client) == []


def test_columns_can_be_renamed_and_empty_batches_pass(client: Client) -> None:
    out = predict_batch(client, pa.table({"caption": ["a dog"]}), model_id="text-keywords", columns=Columns(text="caption"))
    assert out.column("status_code").to_pylist() == [10000]
    empty = upload_batch(client, pa.table({"text": pa.array([], pa.string())}))
    assert empty.num_rows == 0 and empty.schema.names == ["text"] + [n for n, _ in UPLOAD_FIELDS]


# --- upload -----------------------------------------------------------------------------------


def test_upload_stores_each_row_once_and_a_rerun_stores_nothing(client: Client) -> None:
    table = pa.table({
        "text": ["alpha", "beta", "alpha", None, "gamma", "delta"],
        "metadata": [None, json.dumps({"k": "v"}), None, None, None, None],
        "id": [None, None, None, None, "my-id", "my-id"],
    })
    rows = upload_batch(client, table, max_inputs=2).to_pylist()
    assert [r["outcome"] for r in rows] == ["stored", "stored", "already_present", "invalid", "stored", "invalid"]
    assert "another row of this batch" in rows[5]["error"]
    assert rows[0]["input_id"] == rows[2]["input_id"] == derive_input_id(Data(text=Text(raw="alpha")))
    assert rows[4]["input_id"] == "my-id"
    ids = stored(client)
    assert sorted(ids) == sorted({rows[0]["input_id"], rows[1]["input_id"], "my-id"})
    meta = client.call("ListInputs", ListInputsRequest(ids=[rows[1]["input_id"]])).inputs[0].data.metadata
    assert dict(meta) == {"k": "v"}

    again = upload_batch(client, table.to_pandas()).to_dict("records")
    assert [r["outcome"] for r in again] == ["already_present"] * 3 + ["invalid", "already_present", "invalid"]
    assert all(r["status_code"] == 10000 for i, r in enumerate(again) if i not in (3, 5))
    assert sorted(stored(client)) == sorted(ids)


def test_a_row_the_service_refuses_fails_alone(client: Client) -> None:
    texts = [f"row {i}" for i in range(10)]
    table = pa.table({"text": texts, "id": [None] * 4 + ["not a valid id!"] + [None] * 5})
    rows = upload_batch(client, table).to_pylist()
    assert [r["outcome"] for r in rows] == ["stored"] * 4 + ["failed"] + ["stored"] * 5
    assert rows[4]["status_code"] == SC.INPUT_INVALID_ARGUMENT and "not valid" in rows[4]["error"]
    assert sorted(stored(client)) == sorted(r["input_id"] for i, r in enumerate(rows) if i != 4)


def test_a_lost_reply_is_looked_up_not_reported_failed(client: Client, emulator: Emulator) -> None:
    emulator.faults.fail_next("PostInputs", 1, "dropped")
    rows = upload_batch(client, pa.table({"text": TEXTS}), max_inputs=2, concurrency=1).to_pylist()
    assert {r["outcome"] for r in rows} <= {"stored", "already_present"} and all(r["status_code"] == 10000 for r in rows)
    assert sorted(stored(client)) == sorted(r["input_id"] for r in rows)


def test_bytes_with_their_source_get_the_id_upload_inputs_gives_the_file(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    path.write_bytes(PNG)
    report = client.upload_inputs([path])
    rows = upload_batch(client, pa.table({"image_bytes": [PNG], "source": [str(path.resolve())]})).to_pylist()
    assert rows[0]["input_id"] == report.succeeded[0] and rows[0]["outcome"] == "already_present"
