"""A user's file type-checks under mypy --strict against the typed clients, and reveals the types."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USER_FILE = '''
from collections.abc import AsyncIterator, Iterator
from clarifai_grpc_client import AsyncClient, Client
from clarifai_grpc_client.proto import ListInputsRequest, MultiOutputResponse, PostModelOutputsRequest


def sync_use(client: Client) -> None:
    request = PostModelOutputsRequest(model_id="text-generation")
    reveal_type(client.PostModelOutputs(request))
    reveal_type(client.v2.PostModelOutputs(request, timeout=5))
    stream = client.GenerateModelOutputs(request, idle_timeout=2.0)
    reveal_type(stream)
    chunks: Iterator[MultiOutputResponse] = stream
    reveal_type(client.StreamModelOutputs([request, request]))
    reveal_type(client.with_options(deployment_id="d").ListInputs(ListInputsRequest()))
    for chunk in chunks:
        reveal_type(chunk.outputs[0].data.text.raw)


async def async_use(client: AsyncClient) -> None:
    request = PostModelOutputsRequest(model_id="text-generation")
    reveal_type(await client.PostModelOutputs(request))
    reveal_type(await client.v2.PostModelOutputs(request, metadata=[("x-a", "b")]))
    stream: AsyncIterator[MultiOutputResponse] = client.GenerateModelOutputs(request)
    async for chunk in stream:
        reveal_type(chunk)
    reveal_type(client.StreamModelOutputs([request]))
'''

EXPECTED = [
    'Revealed type is "clarifai_grpc_client.proto.clarifai.api.models_service_pb2.MultiOutputResponse"',
    'Revealed type is "clarifai_grpc_client._policy.ResponseStream[clarifai_grpc_client.proto.clarifai.api.models_service_pb2.MultiOutputResponse]"',
    'Revealed type is "clarifai_grpc_client.proto.clarifai.api.inputs_service_pb2.MultiInputResponse"',
    'Revealed type is "clarifai_grpc_client._policy.AsyncResponseStream[clarifai_grpc_client.proto.clarifai.api.models_service_pb2.MultiOutputResponse]"',
]

MISTAKES = '''
from clarifai_grpc_client import AsyncClient, Client
from clarifai_grpc_client.proto import GetInputRequest, PostModelOutputsRequest

Client("grpc", timout=3)
AsyncClient("json", deployment="d")
Client().ListInputs(GetInputRequest())
Client().PostModelOutputs(PostModelOutputsRequest(), timeout="soon")
'''


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "user_code.py"
    path.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
    )


def test_typed_clients_reveal_response_and_stream_types(tmp_path: Path) -> None:
    result = mypy(tmp_path, USER_FILE)
    out = result.stdout
    assert "error" not in out, out
    for line in EXPECTED:
        assert line in out, out
    # (older mypy releases, down to the floor, spell builtins with their module)
    assert 'Revealed type is "str"' in out or 'Revealed type is "builtins.str"' in out, out
    assert out.count("models_service_pb2.MultiOutputResponse\"") >= 5, out


def test_mistakes_are_type_errors(tmp_path: Path) -> None:
    out = mypy(tmp_path, MISTAKES).stdout
    assert 'Unexpected keyword argument "timout" for "Client"' in out, out
    assert 'Unexpected keyword argument "deployment" for "AsyncClient"' in out, out
    assert '"ListInputs" of "SyncV2Methods" has incompatible type "GetInputRequest"' in out, out
    assert 'incompatible type "str"; expected "float | None"' in out, out
