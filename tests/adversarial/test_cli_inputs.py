"""Bad command lines: each ends with exit status 2 (usage) or 1 (API) and one line naming the problem.

The command runs in-process (``cli.main``) against the module's emulator, so the cases stay fast;
tests/client/test_cli.py runs the real executable. No case may print a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from clarifai_grpc_client import cli
from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SECRET


Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(emu: Emulator, transport: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)``: the exit status and the last line on stderr."""
    for name in ("CLARIFAI_GRPC_BASE", "CLARIFAI_API_BASE", "CLARIFAI_API_KEY", "CLARIFAI_USER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLARIFAI_PAT", KEY)
    monkeypatch.setenv("CLARIFAI_APP_ID", "main")
    monkeypatch.chdir(tmp_path)
    base = (["--transport", "grpc", "--base", emu.grpc_target, "--insecure"] if transport == "grpc"
            else ["--transport", "json", "--base", emu.http_base])

    def invoke(*argv: str, with_base: bool = True) -> tuple[int, str]:
        full = [*argv, *(base if with_base else [])]
        try:
            code = cli.main(full)
        except SystemExit as exit_:  # argparse's own usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        lines = [line for line in captured.err.strip().splitlines() if line.strip()]
        return code, lines[-1] if lines else ""

    return invoke


USAGE: dict[str, tuple[list[str], str]] = {
    # name: (argv, fragment of the one error line)
    "an unknown transport": (["inputs", "list", "--transport", "smoke"], "--transport"),
    "a timeout that is not a number": (["inputs", "list", "--timeout", "abc"], "--timeout"),
    "an infinite timeout": (["inputs", "list", "--timeout", "inf"], "--timeout"),
    "a NaN timeout": (["inputs", "list", "--timeout", "nan"], "--timeout"),
    "a negative timeout": (["inputs", "list", "--timeout", "-1"], "--timeout"),
    "stream per page 0": (["inputs", "stream", "--per-page", "0"], "per_page must be between 1 and 1000"),
    "stream per page 5000": (["inputs", "stream", "--per-page", "5000"], "per_page must be between 1 and 1000"),
    "list per page 0": (["inputs", "list", "--per-page", "0"], "per_page must be between 1 and 1000"),
    "list limit -3": (["inputs", "list", "--limit", "-3"], "limit must be >= 0"),
    "upload concurrency 0": (["inputs", "upload", "--concurrency", "0", "list.txt"], "concurrency must be at least 1"),
    "call: not JSON": (["call", "GetInput", "--json", "{nope"], "GetInputRequest"),
    "call: a JSON array": (["call", "GetInput", "--json", "[1]"], "GetInputRequest"),
    "call: an unknown field": (["call", "GetInput", "--json", '{"nope": 1}'], "nope"),
    "call: an unknown RPC": (["call", "NoSuchRpc"], "NoSuchRpc"),
    "call: a missing @file": (["call", "GetInput", "--json", "@missing.json"], "missing.json"),
    "predict: nothing to predict": (["predict", "--model", "text-keywords"], "--text"),
    "predict: a missing image file": (["predict", "--model", "text-keywords", "missing.png"], "missing.png"),
    "predict: no model": (["predict", "--text", "x"], "--model"),
    "predict: max concepts not a number": (["predict", "--model", "m", "--text", "x", "--max-concepts", "many"], "--max-concepts"),
    "upload: a missing folder": (["inputs", "upload", "no-such-folder"], "no-such-folder"),
    "upload: a missing list": (["inputs", "upload", "urls.txt"], "urls.txt"),
    "upload: a list not in UTF-8": (["inputs", "upload", "latin1.txt"], "latin1.txt:1: not UTF-8"),
    "upload: a JSON line that is not an Input": (["inputs", "upload", "bad.jsonl"], "bad.jsonl:1"),
    "delete: no ids": (["inputs", "delete"], "--all"),
    "delete: --all without --yes off a terminal": (["inputs", "delete", "--all"], "--yes"),
    "delete: ids and --all": (["inputs", "delete", "--all", "x1"], "not both"),
    "a missing --pat-file": (["inputs", "list", "--pat-file", "no-such-file"], "--pat-file no-such-file"),
    "an empty --pat": (["inputs", "list", "--pat", ""], "empty"),
    "a --pat with a space": (["inputs", "list", "--pat", "a b"], "whitespace"),
    "--pat and --pat-file": (["inputs", "list", "--pat", "a", "--pat-file", "f"], "--pat"),
    "an unknown command": (["frobnicate"], "frobnicate"),
    "no command": ([], "command"),
}


@pytest.mark.parametrize("case", list(USAGE))
def test_bad_usage_exits_2_with_one_line(run: Run, tmp_path: Path, case: str) -> None:
    (tmp_path / "list.txt").write_text("some text\n")
    (tmp_path / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    (tmp_path / "bad.jsonl").write_text(json.dumps({"data": {"text": {"raw": 5}}}) + "\n")
    argv, fragment = USAGE[case]
    code, line = run(*argv, with_base=bool(argv) and argv[0] in ("inputs", "call", "predict"))
    assert code == 2, (code, line)
    assert "error" in line and fragment in line, line


BASES = {"an ftp:// base": "ftp://127.0.0.1:1", "a base with a path for gRPC": "grpcs://h:1/some/path",
         "a base with a secret in the query": f"https://h/?key={SECRET}"}


@pytest.mark.parametrize("case", list(BASES))
def test_a_bad_base_exits_2_naming_it_and_hiding_secrets(run: Run, case: str) -> None:
    base = BASES[case]
    transport = "grpc" if base.startswith("grpc") else "json"
    code, line = run("inputs", "list", "--transport", transport, "--base", base, with_base=False)
    assert code == 2 and "base address" in line and SECRET not in line, line


API: dict[str, tuple[list[str], str]] = {
    "a missing input": (["call", "GetInput", "--json", '{"input_id": "no-such-input"}'], "INPUT_DOES_NOT_EXIST"),
    "an unknown model": (["predict", "--model", "no-such-model", "--text", "x"], "MODEL_DOES_NOT_EXIST"),
    "deleting a missing input": (["inputs", "delete", "no-such-input"], "INPUT_DOES_NOT_EXIST"),
    "an unknown stream cursor": (["inputs", "stream", "--cursor", "no-such-cursor"], "no-such-cursor"),
    "a wrong key": (["inputs", "list", "--pat", "wrong-key-123"], "CONN_KEY_NOT_FOUND"),
}


@pytest.mark.parametrize("case", list(API))
def test_api_errors_exit_1_with_one_line(run: Run, case: str) -> None:
    argv, fragment = API[case]
    code, line = run(*argv)
    assert code == 1 and line.startswith("error: ") and fragment in line, (code, line)
    assert "wrong-key-123" not in line
