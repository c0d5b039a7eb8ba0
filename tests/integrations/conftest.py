"""Fixtures for the engine tests: one emulator per module on 127.0.0.1, reached by the workers
through the ``CLARIFAI_*`` environment they inherit (exported before the engine starts), and
the expected results computed independently of the code under test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.emulator.models import KEYWORDS, predict_keywords
from clarifai_grpc_client.proto import Data, ListInputsRequest, OutputConfig, Text

KEY = "bulk-test-key"
ROWS = 5000
_WORDS = [w for words in KEYWORDS.values() for w in words]


@dataclass
class Service:
    emulator: Emulator
    env: dict[str, str]

    def client(self, transport: str = "grpc") -> Client:
        base = f"grpc://{self.emulator.grpc_target}" if transport == "grpc" else self.emulator.http_base
        return Client(transport, base, pat=KEY, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    """An emulator, with the worker environment exported (the engines' workers inherit it)."""
    emu = Emulator(keys=[KEY]).start()
    env = {
        "CLARIFAI_GRPC_BASE": f"grpc://{emu.grpc_target}",
        "CLARIFAI_PAT": KEY,
        "CLARIFAI_USER_ID": DEFAULT_USER_ID,
        "CLARIFAI_APP_ID": DEFAULT_APP_ID,
        "PYSPARK_PYTHON": sys.executable,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield Service(emu, env)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        emu.stop()


def text_of(i: int) -> str:
    """Row ``i``'s text: two vocabulary words (so the topics vary by row) and the row number."""
    return f"{_WORDS[i % len(_WORDS)]} {_WORDS[(i * 7 + 3) % len(_WORDS)]} row {i}"


def expected_concepts(text: str) -> list[tuple[str, float]]:
    """``text-keywords``' concepts for ``text``, from the model function itself."""
    data = predict_keywords(Data(text=Text(raw=text)), OutputConfig())
    return [(c.id, c.value) for c in data.concepts]


def check_prediction(row: dict[str, Any]) -> None:
    """A predicted row matches the model's own answer for its text."""
    assert row["status_code"] == 10000 and row["error"] is None, row
    got = [(c["id"], c["value"]) for c in row["concepts"]]
    want = expected_concepts(row["text"])
    assert [g[0] for g in got] == [w[0] for w in want], row
    assert all(abs(g[1] - w[1]) < 1e-6 for g, w in zip(got, want)), row


def stored_ids(client: Client) -> list[str]:
    """Every input id of the app, read through the API page by page (a repeated id would show twice)."""
    return [inp.id for inp in client.iter_items("ListInputs", ListInputsRequest(), per_page=1000)]
