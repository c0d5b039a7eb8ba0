"""Cross-language check: a Node.js client built from protos/ talks to the emulator, Python reads it back.

tests/node/client.mjs loads clarifai/api/service.proto at run time with @grpc/proto-loader
(includeDirs: the repository's protos/, googleapis-common-protos for google/api/*.proto and
grpc_tools' bundled google/protobuf/*.proto) and calls the in-process emulator over @grpc/grpc-js
with ``authorization: Key ...`` metadata: it posts inputs (text, a PNG as bytes, concepts one of
which is 0, Struct metadata, an int64 above 2**53), posts a duplicate with an enum-valued
conflict policy, predicts with text-keywords and general-embedding, pages StreamInputs with
``per_page``/``last_id`` until a short page, and prints JSON. Every check is then made from
Python, against what our Python client reads from the same emulator.

The npm packages (pinned in tests/node/package.json and package-lock.json) are installed into
tests/node/node_modules on first use and reused while both files are unchanged. The test is
skipped, saying why, only when node or npm is not on PATH or the npm registry cannot be reached.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from clarifai_grpc_client import ApiError, Client
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import (
    Data,
    GetInputRequest,
    GetModelRequest,
    Image,
    Input,
    ListInputsRequest,
    PostModelOutputsRequest,
    Text,
)
from clarifai_grpc_client.proto.clarifai.api import core_pb2
from clarifai_grpc_client.proto.clarifai.api.status import status_code_pb2

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
CLIENT = NODE_DIR / "client.mjs"
STAMP = NODE_DIR / "node_modules" / ".clarifai-install-stamp"
KEY = "node-key"
PER_PAGE = 2
NPM_INSTALL_TIMEOUT = 90  # inside pytest-timeout's 120 s, which covers the module fixture too
NODE_TIMEOUT = 60
# npm's messages when it cannot reach the registry (DNS, refused, reset, offline, proxy, timeout).
_OFFLINE = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCONN|"
                      r"ERR_SOCKET_TIMEOUT|network request|request to \S+ failed|getaddrinfo|offline|proxy", re.I)

IMAGE = png((220, 20, 60), size=16)
METADATA = {"source": "node", "rank": 3, "ratio": 0.25, "tags": ["a", "b"], "nested": {"ok": True, "none": None}}
BIG_INT = 2**53 + 1  # not representable as a JS number: must cross as an int64 string
INPUTS: list[dict[str, Any]] = [
    {"id": "node-text-sport", "text": "The football team won the final match with a late goal.",
     "concepts": [{"id": "sport", "value": 1}, {"id": "food", "value": 0}]},
    {"id": "node-text-food", "text": "Fresh pasta, bread and coffee for breakfast.",
     "concepts": [{"id": "food", "value": 1}], "metadata": METADATA},
    {"id": "node-text-unicode", "text": "Café ☕ — naïve 東京 travel by flight 🚀",
     "concepts": [{"id": "travel", "value": 0.5}], "int_value": str(BIG_INT), "float_value": -1.5e-7},
    {"id": "node-image-red", "image_base64": base64.b64encode(IMAGE).decode(), "concepts": [{"id": "red", "value": 1}]},
    {"id": "node-text-weather", "text": "Rain and snow in the forecast, then sun.", "concepts": []},
]
SPEC: dict[str, Any] = {
    "app_id": "main",
    "inputs": INPUTS,
    "duplicate_id": "node-text-sport",
    "predict_text": "A football match, a pizza and a guitar concert after the football game.",
    "embed_inputs": [{"text": "Fresh pasta with tomato sauce"}, {"image_base64": base64.b64encode(IMAGE).decode()}],
    "per_page": PER_PAGE,
    "missing_id": "no-such-input",
    "timeout_ms": 15000,
}


def _include_dirs() -> list[str]:
    import google.api.annotations_pb2 as annotations
    import grpc_tools

    common = Path(annotations.__file__).resolve().parents[2]  # site-packages holding google/api/*.proto
    bundled = Path(grpc_tools.__file__).resolve().parent / "_proto"  # google/protobuf/*.proto
    dirs = [ROOT / "protos", common, bundled]
    for d, probe in zip(dirs, ("clarifai/api/service.proto", "google/api/annotations.proto", "google/protobuf/struct.proto")):
        assert (d / probe).is_file(), f"{probe} not found under {d}"
    return [str(d) for d in dirs]


def _lock_digest() -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((NODE_DIR / name).read_bytes())
    return h.hexdigest()


def _ensure_node_modules() -> bool:
    """Install the pinned npm packages unless the installed ones match; True when npm ran."""
    digest = _lock_digest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest and (NODE_DIR / "node_modules/@grpc/grpc-js/package.json").is_file():
        return False
    npm = shutil.which("npm")
    assert npm is not None
    # --no-save: install exactly what the committed lock file says, never rewrite it.
    # --ignore-scripts: nothing needed here runs an install script (protobufjs' only checks versions).
    cmd = [npm, "install", "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", "--fetch-retries=1"]
    env = {**os.environ, "npm_config_update_notifier": "false"}
    try:
        proc = subprocess.run(cmd, cwd=NODE_DIR, capture_output=True, text=True, timeout=NPM_INSTALL_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install did not finish in {NPM_INSTALL_TIMEOUT}s: the npm registry looks unreachable")
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        offline = [line.strip() for line in output.splitlines() if _OFFLINE.search(line)]
        if offline:
            pytest.skip(f"npm install failed, the npm registry is unreachable: {offline[0]}")
        pytest.fail(f"npm install failed ({proc.returncode}):\n{output}")
    STAMP.write_text(digest + "\n")
    return True


@dataclass
class Session:
    node: dict[str, Any]
    client: Client
    seconds: float


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH: the Node.js cross-language client cannot run")
    started = time.perf_counter()
    _ensure_node_modules()
    spec_path = tmp_path_factory.mktemp("node-client") / "spec.json"
    spec_path.write_text(json.dumps(SPEC))
    env = {**os.environ, "CLARIFAI_PROTO_PATH": os.pathsep.join(_include_dirs()), "CLARIFAI_KEY": KEY}
    with Emulator(keys=(KEY,)) as emu:
        proc = subprocess.run(["node", str(CLIENT), "--target", emu.grpc_target, "--spec", str(spec_path)],
                              cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT)
        assert proc.stdout.strip(), f"node printed nothing (exit {proc.returncode}):\n{proc.stderr}"
        node = json.loads(proc.stdout)
        assert proc.returncode == 0 and "error" not in node, f"node client failed: {node.get('error')}\n{proc.stderr}"
        with Client("grpc", f"grpc://{emu.grpc_target}", pat=KEY, app_id="main", environ={}) as client:
            yield Session(node, client, time.perf_counter() - started)


def _python_view(inp: Input) -> dict[str, Any]:
    """An input as the node client summarizes it (see summarizeInput in client.mjs)."""
    d = inp.data
    image = d.image.base64
    return {
        "id": inp.id,
        "status_code": inp.status.code,
        "created_at": {"seconds": str(inp.created_at.seconds), "nanos": inp.created_at.nanos},
        "text": d.text.raw if d.HasField("text") else None,
        "image_sha256": hashlib.sha256(image).hexdigest() if image else None,
        "image_bytes": len(image),
        "image_info": {"width": d.image.image_info.width, "height": d.image.image_info.height}
        if d.image.HasField("image_info") else None,
        "concepts": [[c.id, c.value] for c in d.concepts],
        "metadata": json_format.MessageToDict(d.metadata) if d.HasField("metadata") else None,
        "int_value": str(d.int_value),
        "float_value": d.float_value,
    }


def _outputs(resp: Any) -> dict[str, Any]:
    return {
        "status_code": resp.status.code,
        "outputs": [{
            "status_code": o.status.code,
            "model_id": o.model.id if o.HasField("model") else None,
            "concepts": [[c.id, c.value] for c in o.data.concepts],
            "embeddings": [{"vector": list(e.vector), "num_dimensions": e.num_dimensions} for e in o.data.embeddings],
        } for o in resp.outputs],
    }


def _data(item: dict[str, Any]) -> Data:
    if "image_base64" in item:
        return Data(image=Image(base64=base64.b64decode(item["image_base64"])))
    return Data(text=Text(raw=item["text"]))


def test_pinned_npm_packages_are_the_ones_used(session: Session) -> None:
    pkg = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert session.node["versions"] == pkg["dependencies"]
    for name, version in pkg["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert session.seconds < 60, f"the cross-language session took {session.seconds:.1f}s"


def test_inputs_posted_from_node_are_stored(session: Session) -> None:
    node = session.node
    assert node["post"]["status_code"] == status_code_pb2.SUCCESS == 10000
    assert node["post"]["ids"] == [i["id"] for i in INPUTS]
    assert node["post"]["input_status_codes"] == [status_code_pb2.INPUT_DOWNLOAD_SUCCESS] * len(INPUTS)
    for item in INPUTS:
        got = session.client.GetInput(GetInputRequest(input_id=item["id"])).input
        assert got.id == item["id"]
        assert [(c.id, c.value) for c in got.data.concepts] == [(c["id"], c["value"]) for c in item["concepts"]]
        if "text" in item:
            assert got.data.text.raw == item["text"]
        else:
            assert got.data.image.base64 == IMAGE  # bytes, byte for byte
            assert (got.data.image.image_info.width, got.data.image.image_info.height) == (16, 16)
        if "metadata" in item:
            assert json_format.MessageToDict(got.data.metadata) == item["metadata"]
        else:
            assert not got.data.HasField("metadata")
    unicode_input = session.client.GetInput(GetInputRequest(input_id="node-text-unicode")).input
    assert unicode_input.data.int_value == BIG_INT  # an int64 above 2**53, sent as a string from JS
    assert unicode_input.data.float_value == -1.5e-7
    zero = session.client.GetInput(GetInputRequest(input_id="node-text-sport")).input.data.concepts[1]
    assert (zero.id, zero.value) == ("food", 0.0)


def test_enum_in_a_request_crosses(session: Session) -> None:
    """input_id_conflict_resolution=SUFFIX, set by name from JS, made the emulator rename the duplicate."""
    suffixed = session.node["post_suffix"]
    assert suffixed["status_code"] == status_code_pb2.SUCCESS
    [new_id] = suffixed["ids"]
    assert new_id.startswith(SPEC["duplicate_id"] + "-") and new_id != SPEC["duplicate_id"]
    got = session.client.GetInput(GetInputRequest(input_id=new_id)).input
    assert got.data.text.raw == INPUTS[0]["text"]
    listed = {i.id for i in session.client.ListInputs(ListInputsRequest(per_page=100)).inputs}
    assert listed == {i["id"] for i in INPUTS} | {new_id}


def test_predictions_equal_pythons(session: Session) -> None:
    node = session.node
    keywords = session.client.PostModelOutputs(
        PostModelOutputsRequest(model_id="text-keywords", inputs=[Input(data=Data(text=Text(raw=SPEC["predict_text"])))]))
    assert node["predict_keywords"] == _outputs(keywords)
    concepts = dict(node["predict_keywords"]["outputs"][0]["concepts"])
    assert (concepts["sport"], concepts["music"], concepts["food"]) == (0.875, 0.75, 0.5)  # 3, 2 and 1 keyword hits

    embedding = session.client.PostModelOutputs(
        PostModelOutputsRequest(model_id="general-embedding", inputs=[Input(data=_data(i)) for i in SPEC["embed_inputs"]]))
    assert node["predict_embedding"] == _outputs(embedding)  # every float32 of both vectors, exactly
    for out in node["predict_embedding"]["outputs"]:
        [emb] = out["embeddings"]
        assert len(emb["vector"]) == emb["num_dimensions"] == 64
        assert abs(sum(v * v for v in emb["vector"]) - 1) < 1e-5


def test_streamed_inputs_equal_pythons(session: Session) -> None:
    stream = session.node["stream"]
    python_ids = [i.id for i in session.client.stream_inputs(per_page=PER_PAGE)]
    assert stream["ids"] == python_ids
    assert len(python_ids) == len(INPUTS) + 1 == len(set(python_ids))
    assert all(n == PER_PAGE for n in stream["pages"][:-1]) and stream["pages"][-1] < PER_PAGE
    assert stream["status_codes"] == [status_code_pb2.SUCCESS] * len(stream["pages"])
    for input_id in python_ids:
        mine = _python_view(session.client.GetInput(GetInputRequest(input_id=input_id)).input)
        assert stream["inputs"][input_id] == mine, input_id
    theirs = stream["inputs"]["node-image-red"]
    assert theirs["image_sha256"] == hashlib.sha256(IMAGE).hexdigest() and theirs["image_bytes"] == len(IMAGE)
    assert theirs["status_code"] == status_code_pb2.INPUT_DOWNLOAD_SUCCESS == 30000
    assert isinstance(theirs["created_at"]["seconds"], str)  # int64 as a string, not a lossy JS number
    assert stream["inputs"]["node-text-unicode"]["int_value"] == str(BIG_INT)
    assert stream["inputs"]["node-text-food"]["metadata"] == METADATA


def test_enums_and_status_codes_are_numbers(session: Session) -> None:
    node = session.node
    model = session.client.GetModel(GetModelRequest(model_id="text-keywords")).model
    assert node["model"] == {
        "status_code": status_code_pb2.SUCCESS,
        "id": "text-keywords",
        "source": core_pb2.Model.HOSTED,
        "version_status_code": status_code_pb2.MODEL_TRAINED,
        "created_at_seconds": str(model.created_at.seconds),
    }
    with pytest.raises(ApiError) as missing:
        session.client.GetInput(GetInputRequest(input_id=SPEC["missing_id"]))
    assert node["get_missing"] == {"status_code": missing.value.status_code, "has_input": False}
    assert missing.value.status_code == status_code_pb2.INPUT_DOES_NOT_EXIST
    assert node["unknown_key"] == {"status_code": status_code_pb2.CONN_KEY_NOT_FOUND}
