"""The ``clarifai-grpc`` command line, run as a subprocess against the emulator, over both transports.

The key comes from ``CLARIFAI_PAT``; the address from ``--base`` (``host:port --insecure`` for
gRPC, the ``http://`` base for JSON) or, in one test, from ``CLARIFAI_GRPC_BASE`` /
``CLARIFAI_API_BASE``. What the commands did is checked in the emulator's storage.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from clarifai_grpc_client import Client, Unauthenticated, _json_format
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator, FaultKind
from clarifai_grpc_client.proto import Data, Input, ListInputsRequest, PostModelOutputsRequest, Text

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
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.cwd, timeout=60,
                              env={**self.env, **(env or {})},
                              **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))
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


def test_upload_progress_counts_repeated_items(cli: Cli, tmp_path: Path) -> None:
    """A list naming one URL twice: the item is sent once, and the count still reaches the total."""
    (tmp_path / "urls.txt").write_text("https://example.com/a.jpg\nhttps://example.com/b.jpg\nhttps://example.com/a.jpg\n")
    up = cli("inputs", "upload", "urls.txt")
    assert up.code == 0, up
    assert up.lines() == ["2 uploaded, 0 already present, 0 failed, 1 repeats skipped in 1 requests"]
    assert "uploaded: 3/3 inputs (100%)" in up.err, up.err


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
    assert "uploaded: 6/6 inputs (100%)" in up.err and "Traceback" not in up.err
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
    everything = cli("inputs", "delete", "--all", "--yes")
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


def test_exit_code_3_when_uploads_are_unconfirmed(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    (tmp_path / "two.jsonl").write_text("".join(json.dumps({"id": f"u{i}", "data": {"text": {"raw": "x"}}}) + "\n"
                                                for i in range(2)))
    emu.faults.fail_next("PostInputs", 1, FaultKind.DROPPED)  # stored, reply lost: the retry meets its own ids
    emu.faults.fail_next("ListInputs", 100, FaultKind.UNAVAILABLE)  # and they cannot be looked up
    run = cli("inputs", "upload", "--quiet", "two.jsonl", "--timeout", "3")
    assert run.code == 3, run
    assert run.lines()[0] == "0 uploaded, 0 already present, 0 failed, 2 unconfirmed in 1 requests"
    assert sorted(line.split(":")[0] for line in run.lines()[1:]) == ["unconfirmed u0", "unconfirmed u1"]
    assert sorted(stored_ids(emu)) == ["u0", "u1"]  # stored indeed: the report did not call them failed


# --- reruns ------------------------------------------------------------------------------------


def test_uploading_a_folder_twice_stores_each_file_once(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(5):
        (photos / f"p{i}.png").write_bytes(png((i, 2 * i, 3 * i)))
    (tmp_path / "urls.txt").write_text("https://example.com/a.jpg\nsome words\n")
    first = cli("inputs", "upload", "--quiet", "photos", "urls.txt")
    assert first.lines() == ["7 uploaded, 0 already present, 0 failed in 1 requests"], first
    again = cli("inputs", "upload", "--quiet", str(photos), "urls.txt")  # the same files by another path spelling
    assert again.lines() == ["0 uploaded, 7 already present, 0 failed in 1 requests"], again
    assert len(stored_ids(emu)) == 7
    fresh = cli("inputs", "upload", "--quiet", "--random-ids", "photos")
    assert fresh.lines() == ["5 uploaded, 0 already present, 0 failed in 1 requests"], fresh
    assert len(stored_ids(emu)) == 12


def test_a_rerun_after_ctrl_c_stores_the_rest_once(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(300):
        (photos / f"p{i:03d}.png").write_bytes(png((i % 256, i // 256, 7)))
    emu.faults.set("PostInputs", latency=0.4)
    argv = [sys.executable, "-m", "clarifai_grpc_client.cli", "inputs", "upload", "--quiet", "--concurrency", "1",
            "photos", *cli.base_args()]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=cli.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not stored_ids(emu) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "interrupted", err
    before = len(stored_ids(emu))
    assert 0 < before < 300
    emu.faults.clear()
    rerun = cli("inputs", "upload", "--quiet", "photos")
    assert rerun.code == 0, rerun
    assert rerun.lines() == [f"{300 - before} uploaded, {before} already present, 0 failed in 3 requests"]
    stored = stored_inputs(emu)
    assert len(stored) == 300 and len({i.data.image.base64 for i in stored}) == 300


# --- keys off the command line -----------------------------------------------------------------


def test_the_key_from_a_file(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    seed(emu, text_inputs(["k1"]))
    (tmp_path / "pat").write_text(KEY + "\n")
    no_env = {"CLARIFAI_PAT": ""}
    ok = cli("inputs", "list", "--pat-file", "pat", env=no_env)
    assert ok.code == 0 and [line["id"] for line in ok.json_lines()] == ["k1"], ok
    missing = cli("inputs", "list", "--pat-file", "nope", env=no_env)
    assert_one_line_error(missing, 2, "--pat-file nope")
    (tmp_path / "wrong").write_text("a-wrong-key-777\n")
    wrong = cli("inputs", "list", "--pat-file", "wrong", env=no_env)
    assert_one_line_error(wrong, 1, "CONN_KEY_NOT_FOUND")
    assert "a-wrong-key-777" not in wrong.err
    both = cli("inputs", "list", "--pat-file", "pat", "--pat", KEY)
    assert both.code == 2 and "not allowed with argument" in both.err


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, list[str]]:
    """Start ``clarifai-grpc serve``; the process, its gRPC target and what it printed before serving."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CLARIFAI_")}
    proc = subprocess.Popen([sys.executable, "-m", "clarifai_grpc_client.cli", "serve", "--log-level", "WARNING", *args],
                            cwd=tmp_path, env={**base_env, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    target = lines[0].split("gRPC ", 1)[1].split()[0] if "gRPC " in lines[0] else ""
    return proc, target, lines


@pytest.mark.parametrize("how", ["key-file", "env"])
def test_serve_takes_keys_from_a_file_or_the_environment(tmp_path: Path, how: str) -> None:
    secret = "emu-key-from-" + how
    (tmp_path / "keys.txt").write_text(f"# keys\n{secret}\n\nsecond-key\n")
    args, env = (["--key-file", "keys.txt"], {}) if how == "key-file" else ([], {"CLARIFAI_EMULATOR_KEYS": f"{secret}, second-key"})
    proc, target, printed = _serve(tmp_path, *args, env=env)
    try:
        assert target, printed
        for key, ok in ((secret, True), ("second-key", True), ("not-a-key", False)):
            with Client("grpc", f"grpc://{target}", pat=key, app_id="main", environ={}) as client:
                if ok:
                    client.ListInputs(ListInputsRequest())
                else:
                    with pytest.raises(Unauthenticated):
                        client.ListInputs(ListInputsRequest())
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert secret not in "".join(printed) + out and "demo key" not in "".join(printed)


def test_serve_refuses_an_unreadable_key_file(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "clarifai_grpc_client.cli", "serve", "--key-file", "missing.txt"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "cannot read --key-file missing.txt" in proc.stderr and "Traceback" not in proc.stderr


def test_documented_usage_keeps_keys_off_the_command_line() -> None:
    from clarifai_grpc_client import cli as cli_module
    from clarifai_grpc_client.emulator import cli as serve_module

    texts = {
        "README.md": (ROOT / "README.md").read_text(),
        "cli docstring": cli_module.__doc__ or "",
        "serve docstring": serve_module.__doc__ or "",
        "cli --help": cli_module.build_parser().format_help(),
    }
    for name, text in texts.items():
        for line in text.splitlines():
            if "clarifai-grpc " in line or "clarifai_grpc_client.emulator" in line or line.startswith(" "):
                assert not re.search(r"--(pat|key)[ =](?!-)", line) or "prefer" in line or "works too" in line, (name, line)
    assert "--pat-file" in texts["cli docstring"] and "--key-file" in texts["serve docstring"]


# --- bad files: one line, exit 2, nothing sent -------------------------------------------------


def _unreadable(path: Path) -> None:
    """A file that exists but cannot be read, even by root (reading /proc/self/mem at offset 0 fails)."""
    path.symlink_to("/proc/self/mem")


@pytest.mark.parametrize("case", ["missing .txt", "missing .jsonl", "unreadable .txt", "unreadable .jsonl",
                                  "latin-1 .jsonl", "latin-1 .txt", "latin-1 text file in a folder",
                                  "bad JSON line", "a .txt line naming a file"])
def test_bad_upload_files_give_one_line_and_exit_2(cli: Cli, emu: Emulator, tmp_path: Path, case: str) -> None:
    (tmp_path / "good.jsonl").write_text(json.dumps({"id": "g1", "data": {"text": {"raw": "fine"}}}) + "\n")
    name = {"missing .txt": "urls.txt", "missing .jsonl": "more.jsonl", "unreadable .txt": "urls.txt",
            "unreadable .jsonl": "more.jsonl", "latin-1 .jsonl": "more.jsonl", "latin-1 .txt": "urls.txt",
            "latin-1 text file in a folder": "docs", "bad JSON line": "more.jsonl",
            "a .txt line naming a file": "urls.txt"}[case]
    path = tmp_path / name
    if case.startswith("unreadable"):
        _unreadable(path)
    elif case.startswith("latin-1 text file"):
        path.mkdir()
        (path / "note.txt").write_bytes("café".encode("latin-1"))
    elif case.startswith("latin-1"):
        path.write_bytes(json.dumps({"data": {"text": {"raw": "ok"}}}).encode() + b"\n" + "{\"x\": \"café\"}\n".encode("latin-1"))
    elif case == "a .txt line naming a file":
        path.write_text("https://example.com/a.jpg\ngood.jsonl\n")
    elif case == "bad JSON line":
        path.write_text('{"data": {"text": {"raw": "ok"}}}\n{"data": {"text": \n')
    run = cli("inputs", "upload", "--quiet", "good.jsonl", name)
    expected = {"missing .txt": "cannot read urls.txt: No such file", "missing .jsonl": "cannot read more.jsonl: No such file",
                "unreadable .txt": "cannot read urls.txt", "unreadable .jsonl": "cannot read more.jsonl", "latin-1 .jsonl": "more.jsonl:2: not UTF-8 (byte 0xe9)",
                "latin-1 .txt": "urls.txt:2: not UTF-8", "latin-1 text file in a folder": "note.txt is not UTF-8 text",
                "bad JSON line": "more.jsonl:2: not a JSON Input",
                "a .txt line naming a file": "urls.txt:2: 'good.jsonl' names a file"}[case]
    assert_one_line_error(run, 2, expected)
    if case != "latin-1 text file in a folder":  # lists are read through before anything is sent
        assert stored_ids(emu) == []


# --- delete --all asks first -------------------------------------------------------------------


def test_delete_all_needs_yes_without_a_terminal(cli: Cli, emu: Emulator) -> None:
    seed(emu, text_inputs(["d1", "d2", "d3"]))
    refused = cli("inputs", "delete", "--all")
    assert_one_line_error(refused, 2, "--all deletes every input", "--yes")
    both = cli("inputs", "delete", "--all", "d1")
    assert_one_line_error(both, 2, "not both")
    assert sorted(stored_ids(emu)) == ["d1", "d2", "d3"]
    done = cli("inputs", "delete", "--all", "--yes")
    assert done.lines() == ["deleted 3 inputs"] and stored_ids(emu) == []


def _on_a_terminal(cli: Cli, answer: str, *args: str) -> Run:
    """Run the CLI with a pseudo-terminal as stdin, typing ``answer``."""
    master, slave = pty.openpty()
    try:
        argv = [sys.executable, "-m", "clarifai_grpc_client.cli", *args, *cli.base_args()]
        proc = subprocess.Popen(argv, cwd=cli.cwd, env=cli.env, stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return Run(proc.returncode, out, err)


def test_delete_all_asks_on_a_terminal(cli: Cli, emu: Emulator) -> None:
    seed(emu, text_inputs(["t1", "t2"]))
    declined = _on_a_terminal(cli, "n", "inputs", "delete", "--all")
    assert declined.code == 0 and declined.lines() == ["nothing deleted"], declined
    assert "delete all 2 inputs of app 'main'? [y/N]" in declined.err
    assert sorted(stored_ids(emu)) == ["t1", "t2"]
    accepted = _on_a_terminal(cli, "yes", "inputs", "delete", "--all")
    assert accepted.code == 0 and accepted.lines() == ["deleted 2 inputs"], accepted
    assert stored_ids(emu) == []
