"""A user's typed snippet passes mypy --strict against the generated stubs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = '''
import grpc
from clarifai_grpc_client import Client
from clarifai_grpc_client.proto import (
    Data, Image, Input, MultiOutputResponse, PostModelOutputsRequest, UserAppIDSet, V2Stub,
)


def predict(channel: grpc.Channel, url: str) -> list[tuple[str, float]]:
    stub = V2Stub(channel)
    request = PostModelOutputsRequest(
        user_app_id=UserAppIDSet(user_id="clarifai", app_id="main"),
        model_id="general-image-recognition",
        inputs=[Input(data=Data(image=Image(url=url)))],
    )
    response: MultiOutputResponse = stub.PostModelOutputs(request, timeout=10)
    return [(c.name, c.value) for c in response.outputs[0].data.concepts]


async def predict_async(channel: grpc.aio.Channel) -> int:
    stub = V2Stub(channel)
    response = await stub.PostModelOutputs(PostModelOutputsRequest(model_id="m"))
    return response.status.code


def checked(client: Client) -> str:
    return client.v2.PostModelOutputs(PostModelOutputsRequest(model_id="m")).status.description
'''


def test_user_snippet_type_checks_strictly(tmp_path: Path) -> None:
    path = tmp_path / "snippet.py"
    path.write_text(SNIPPET)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_passes_mypy_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
