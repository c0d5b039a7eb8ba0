"""The ``clarifai-grpc`` command line, run as a subprocess against the emulator, over both transports.

The key comes from ``CLARIFAI_PAT``; the address from ``--base`` (``host:port --insecure`` for
gRPC, the ``http://`` base for JSON) or, in one test, from ``CLARIFAI_GRPC_BASE`` /
``CLARIFAI_API_BASE``. What the commands did is checked in the emulator's storage.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from clarifai_grpc_client import _json_format
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.proto import Data, Input, PostModelOutputsRequest, Text

from .conftest import KEY, make_client, seed, stored_ids, stored_inputs, text_inputs

ROOT = Path(__file__).resolve().parents[2]
RED, BLUE = png((230, 20, 20)), png((20, 20, 230))


@dataclass
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def json_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.lines()]


class Cli:
    def __init__(self, emu: Emulator, transport: str, cwd: Path) -> None:
        self.emu, self.transport, self.cwd = emu, transport, cwd
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFAI_")}
        env.update(CLARIFAI_PAT=KEY, CLARIFAI_APP_ID="main", PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
        self.env = env

    def base_args(self) -> list[str]:
        if self.transport == "grpc":
            return ["--transport", "grpc", "--base", self.emu.grpc_target, "--insecure"]
        return ["--transport", "json", "--base", self.emu.http_base]

    def __call__(self, *args: str, base: list[str] | None = None, stdin: str | None = None,
                 env: dict[str, str] | None = None) -> Run:
        argv = [sys.executable, "-m", "clarifai_grpc_client.cli", *args, *(self.base_args() if base is None else base)]
        proc = subprocess.run(argv, capture_output=True, text=True, input=stdin, cwd=self.cwd, timeout=60,
                              env={**self.env, **(env or {})})
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def many(self, *runs: tuple[str, ...], base: list[str] | None = None) -> list[Run]:
        """Independent commands side by side (each is mostly interpreter start-up)."""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda args: self(*args, base=base), runs))


@pytest.fixture
def cli(emu: Emulator, transport: str, tmp_path: Path) -> Cli:
    return Cli(emu, transport, tmp_path)


def assert_one_line_error(run: Run, code: int, *fragments: str) -> None:
    assert run.code == code, run
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    for fragment in fragments:
        assert fragment in lines[0]


def test_predict_as_a_table_and_as_json(cli: Cli, emu: Emulator) -> None:
    text = "a football match between two teams in the stadium"
    with make_client(emu, cli.transport) as client:  # what the library itself gets, to compare with
        expected = client.PostModelOutputs(
            PostModelOutputsRequest(model_id="text-keywords", inputs=[Input(data=Data(text=Text(raw=text)))])
        ).outputs[0].data.concepts
    assert expected
    table = cli("predict", "--model", "text-keywords", "--text", text)
    assert table.code == 0, table
    lines = table.lines()
    assert lines[0] == "text-keywords"
    rows = [line.split() for line in lines[1:]]
    assert [name for name, _ in rows] == [c.name or c.id for c in expected]
    assert [float(value) for _, value in rows] == pytest.approx([c.value for c in expected], abs=5e-5)

    as_json = cli("predict", "--model", "text-keywords", "--text", text, "--json")
    assert as_json.code == 0, as_json
    outputs = json.loads(as_json.out)
    assert len(outputs) == 1 and outputs[0]["model"]["id"] == "text-keywords"
    concepts = outputs[0]["data"]["concepts"]
    assert [c["id"] for c in concepts] == [c.id for c in expected]
    assert [c["value"] for c in concepts] == pytest.approx([c.value for c in expected], abs=1e-6)


def test_upload_list_stream_delete(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "red.png").write_bytes(RED)
    (photos / "sub" / "blue.png").write_bytes(BLUE)
    (tmp_path / "urls.txt").write_text("https://example.com/a.jpg\n\nhttps://example.com/b.jpg\n")
    (tmp_path / "more.jsonl").write_text(
        json.dumps({"id": "j1", "data": {"text": {"raw": "first line"}}}) + "\n\n"
        + json.dumps({"id": "j2", "data": {"image": {"url": "https://example.com/c.png"}}}) + "\n")

    up = cli("inputs", "upload", "photos", "urls.txt", "more.jsonl")
    assert up.code == 0, up
    assert up.lines() == ["6 uploaded, 0 already present, 0 failed in 1 requests"]
    assert "6 inputs done (0 failed)" in up.err and "Traceback" not in up.err
    stored = stored_inputs(emu)
    assert len(stored) == 6
    assert sorted(i.data.image.base64 for i in stored if i.data.image.base64) == sorted([RED, BLUE])
    assert sorted(i.data.image.url for i in stored if i.data.image.url) == [
        "https://example.com/a.jpg", "https://example.com/b.jpg", "https://example.com/c.png"]
    assert {i.id: i.data.text.raw for i in stored if i.id in ("j1", "j2")} == {"j1": "first line", "j2": ""}
    ids = [i.id for i in stored]

    again = cli("inputs", "upload", "--quiet", "more.jsonl")
    assert again.code == 0 and again.lines() == ["0 uploaded, 2 already present, 0 failed in 1 requests"] and again.err == ""

    listed, limited, streamed, by_id, resumed = cli.many(
        ("inputs", "list", "--per-page", "4"),
        ("inputs", "list", "--limit", "3"),
        ("inputs", "stream", "--per-page", "4"),
        ("inputs", "stream", "--per-page", "4", "--order-by-id", "--descending"),
        ("inputs", "stream", "--per-page", "4", "--cursor", ids[1]),
    )
    assert listed.code == 0, listed
    assert [line["id"] for line in listed.json_lines()] == ids[::-1]  # newest first
    assert limited.code == 0 and len(limited.lines()) == 3
    assert streamed.code == 0, streamed
    back = [_json_format.parse_json(line, Input()) for line in streamed.lines()]
    assert len(back) == 6 and [i.id for i in back] == ids
    assert {i.id: i for i in back} == {i.id: i for i in stored}  # the JSON lines parse back to what is stored
    assert [line["id"] for line in by_id.json_lines()] == sorted(ids, reverse=True)
    assert [line["id"] for line in resumed.json_lines()] == ids[2:]

    deleted = cli("inputs", "delete", "j1", "j2")
    assert deleted.code == 0 and deleted.lines() == ["deleted 2 inputs"], deleted
    assert sorted(stored_ids(emu)) == sorted(set(ids) - {"j1", "j2"})
    everything = cli("inputs", "delete", "--all")
    assert everything.code == 0 and everything.lines() == ["deleted 4 inputs"], everything
    assert stored_ids(emu) == []


def test_settings_from_the_environment(cli: Cli, emu: Emulator) -> None:
    seed(emu, text_inputs(["e1", "e2"]))
    env = ({"CLARIFAI_GRPC_BASE": f"grpc://{emu.grpc_target}"} if cli.transport == "grpc"
           else {"CLARIFAI_API_BASE": emu.http_base})
    run = cli("inputs", "stream", "--transport", cli.transport, base=[], env=env)
    assert run.code == 0, run
    assert [line["id"] for line in run.json_lines()] == ["e1", "e2"]


def test_call_any_rpc_with_json(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    seed(emu, text_inputs(["c1"]))
    got = cli("call", "GetInput", "--json", '{"input_id": "c1"}')
    assert got.code == 0, got
    body = json.loads(got.out)
    assert body["input"]["id"] == "c1" and body["input"]["data"]["text"]["raw"] == "text of c1"
    assert body["status"]["code"] in ("SUCCESS", 10000)

    (tmp_path / "post.json").write_text('{"inputs": [{"id": "c2", "data": {"text": {"raw": "from a file"}}}]}')
    posted = cli("call", "PostInputs", "--json", "@post.json")
    assert posted.code == 0, posted
    assert [i["id"] for i in json.loads(posted.out)["inputs"]] == ["c2"]
    piped = cli("call", "PostInputs", "--json", "-", stdin='{"inputs": [{"id": "c3", "data": {"text": {"raw": "stdin"}}}]}')
    assert piped.code == 0, piped
    assert sorted(stored_ids(emu)) == ["c1", "c2", "c3"]


def test_exit_code_1_for_an_api_error(cli: Cli) -> None:
    missing = cli("call", "GetInput", "--json", '{"input_id": "no-such-input"}')
    assert_one_line_error(missing, 1, "GetInput", "INPUT_DOES_NOT_EXIST", "no-such-input")
    assert missing.out == ""
    wrong_key = cli("inputs", "list", env={"CLARIFAI_PAT": "not-a-key"})
    assert_one_line_error(wrong_key, 1, "CONN_KEY_NOT_FOUND")
    assert "not-a-key" not in wrong_key.err


def test_exit_code_2_for_a_bad_base_address(cli: Cli) -> None:
    bases = ["ftp://127.0.0.1:1", "nohost:notaport", "127.0.0.1:1/some/path?x=1", ""]
    runs = cli.many(*[("inputs", "list", "--transport", cli.transport, "--base", base) for base in bases], base=[])
    assert len(runs) == 4
    for run in runs:
        assert_one_line_error(run, 2, "base address")
        assert run.out == ""


def test_exit_code_2_for_bad_usage(cli: Cli) -> None:
    missing_file, bad_json, bad_rpc, no_folder, no_ids = cli.many(
        ("call", "GetInput", "--json", "@missing.json"),
        ("call", "GetInput", "--json", "{not json"),
        ("call", "NoSuchRpc"),
        ("inputs", "upload", "no-such-folder"),
        ("inputs", "delete"),
    )
    assert_one_line_error(missing_file, 2, "missing.json")
    assert_one_line_error(bad_json, 2, "GetInputRequest")
    assert_one_line_error(bad_rpc, 2, "NoSuchRpc")
    assert_one_line_error(no_folder, 2, "no-such-folder")
    assert_one_line_error(no_ids, 2, "--all")


def test_exit_code_3_when_some_uploads_fail(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text(json.dumps({"id": "bad id", "data": {"text": {"raw": "x"}}}) + "\n")
    run = cli("inputs", "upload", "--quiet", "bad.jsonl")
    assert run.code == 3, run
    assert run.lines()[0] == "0 uploaded, 0 already present, 1 failed in 1 requests"
    assert run.lines()[1].startswith("failed bad id: INPUT_INVALID_ARGUMENT: ")
    assert stored_ids(emu) == []
