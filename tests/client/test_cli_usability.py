"""What a person at a shell sees from ``clarifai-grpc``: version, help, progress, strict input, hints.

Every behaviour runs the real console script (or ``python -m clarifai_grpc_client.cli`` where the
script's name does not matter) as a subprocess against an emulator on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from clarifai_grpc_client import cli
from clarifai_grpc_client._version import __version__
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator import cli as emulator_cli

from .conftest import KEY, stored_ids

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("clarifai-grpc")
CORE_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", re.M)  # gRPC core's own log line prefix
# Before grpcio 1.69 gRPC core writes some lines (a failed TLS handshake) whatever GRPC_VERBOSITY
# says; the package accepts grpcio from 1.66, so there the command's own lines are all it controls.
CORE_HONOURS_VERBOSITY = tuple(int(p) for p in grpc.__version__.split(".")[:2]) >= (1, 69)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GRPC_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore", TERM="xterm", **extra)
    return env


def _emu_env(emu: Emulator, **extra: str) -> dict[str, str]:
    return _env(CLARIFAI_GRPC_BASE=f"grpc://{emu.grpc_target}", CLARIFAI_API_BASE=emu.http_base,
                CLARIFAI_PAT=KEY, CLARIFAI_APP_ID="main", **extra)


def run(*args: str, env: dict[str, str], cwd: Path | None = None, script: bool = False,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "clarifai_grpc_client.cli"]
    return subprocess.run([*command, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e


def _texts(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"t{i:04d}.txt").write_text(f"text number {i}\n")
    return folder


# --- version and help -----------------------------------------------------------------------


def test_version() -> None:
    proc = run("--version", env=_env(), script=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"clarifai-grpc {__version__}"


def _actions(parser: argparse.ArgumentParser, where: str) -> list[tuple[str, argparse.Action]]:
    found: list[tuple[str, argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _actions(sub, f"{where} {name}")
        else:
            found.append((where, action))
    return found


def test_every_flag_and_argument_has_help() -> None:
    actions = _actions(cli.build_parser(), "clarifai-grpc") + _actions(emulator_cli.build_parser(), "clarifai-grpc serve")
    assert len(actions) > 60
    missing = [f"{where}: {'/'.join(a.option_strings) or a.dest}" for where, a in actions
               if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []


@pytest.mark.parametrize("command", [("inputs", "upload"), ("inputs", "stream"), ("call",), ("serve",)])
def test_help_shows_every_flag_with_its_text(command: tuple[str, ...]) -> None:
    proc = run(*command, "--help", env=_env())
    assert proc.returncode == 0 and proc.stderr == ""
    assert re.search(r"--timeout SECONDS\s+seconds per call", proc.stdout) or command == ("serve",)
    assert re.search(r"--key-file FILE\s+accept", proc.stdout) or command != ("serve",)


# --- progress -------------------------------------------------------------------------------


def test_upload_progress_in_a_log_is_plain_lines_and_ends_with_a_summary(emu: Emulator, tmp_path: Path) -> None:
    folder = _texts(tmp_path / "texts", 300)
    proc = run("inputs", "upload", str(folder), "--concurrency", "1", "--progress-interval", "0.001",
               env=_emu_env(emu), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "300 uploaded, 0 already present, 0 failed in 3 requests"
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert re.fullmatch(r"uploaded: 128/300 inputs \(42%\), [\d,]+/s, about \d+s left", lines[0]), lines
    assert re.fullmatch(r"uploaded: 300/300 inputs \(100%\), [\d,]+/s in \d+\.\ds", lines[-1]), lines


def test_no_progress_lines_before_the_interval(emu: Emulator, tmp_path: Path) -> None:
    folder = _texts(tmp_path / "texts", 3)
    proc = run("inputs", "upload", str(folder), env=_emu_env(emu), cwd=tmp_path)
    assert proc.returncode == 0 and len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("uploaded: 3/3")
    quiet = run("inputs", "upload", str(folder), "--quiet", env=_emu_env(emu), cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and "3 already present" in quiet.stdout


def _on_a_terminal(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal; exit code, stdout and what the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "clarifai_grpc_client.cli", *args], env=env, cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    return proc.returncode, out.decode(), shown.decode(errors="replace")


def test_upload_on_a_terminal_shows_total_rate_and_time_left(emu: Emulator, tmp_path: Path) -> None:
    folder = _texts(tmp_path / "texts", 200)
    code, out, shown = _on_a_terminal("inputs", "upload", str(folder), "--concurrency", "1",
                                      env=_emu_env(emu, COLUMNS="120"), cwd=tmp_path)
    assert code == 0 and out.startswith("200 uploaded"), shown
    assert "200/200 inputs" in shown and re.search(r"[\d,]+ inputs/s", shown) and "left" in shown, shown
    assert "━" in shown  # the bar itself


def test_stream_ends_with_a_count_and_shows_progress_on_a_terminal(emu: Emulator, tmp_path: Path) -> None:
    folder = _texts(tmp_path / "texts", 40)
    assert run("inputs", "upload", "--quiet", str(folder), env=_emu_env(emu), cwd=tmp_path).returncode == 0
    proc = run("inputs", "stream", "--per-page", "7", "--progress-interval", "0.001", env=_emu_env(emu), cwd=tmp_path)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 40
    lines = proc.stderr.splitlines()
    assert all(re.fullmatch(r"streamed: [\d,]+ inputs(, [\d,]+/s)?", line) for line in lines[:-1]), lines
    assert re.fullmatch(r"streamed: 40 inputs, [\d,]+/s in \d+\.\ds", lines[-1]), lines
    code, out, shown = _on_a_terminal("inputs", "stream", "--per-page", "7", env=_emu_env(emu), cwd=tmp_path)
    assert code == 0 and len(out.splitlines()) == 40
    assert "40 inputs" in shown and "inputs/s" in shown and "streamed: 40 inputs" in shown, shown


# --- strict input and local checks ---------------------------------------------------------


def test_call_refuses_unknown_fields_naming_them(emu: Emulator) -> None:
    proc = run("call", "GetInput", "--json", '{"inputid": "x"}', env=_emu_env(emu))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "error: --json: GetInputRequest has no field 'inputid' (its fields: user_app_id, input_id)\n"
    nested = run("call", "PostInputs", "--json", '{"inputs": [{"id": "a", "data": {"imgae": {}, "text": {"rwa": "x"}}}]}',
                 env=_emu_env(emu))
    assert nested.returncode == 2
    assert "'inputs[0].data.imgae', 'inputs[0].data.text.rwa'" in nested.stderr
    assert stored_ids(emu) == []  # refused before anything was sent
    ok = run("call", "GetInput", "--json", '{"inputId": "missing"}', env=_emu_env(emu))  # camelCase is a field name
    assert ok.returncode == 1 and "GetInput" in ok.stderr


def test_missing_key_is_found_before_connecting() -> None:
    env = _env(CLARIFAI_GRPC_BASE="grpc://127.0.0.1:9")  # nothing listens there; no call is made
    proc = run("inputs", "list", env=env)
    assert proc.returncode == 2
    assert proc.stderr == ("error: no key to authenticate with: export CLARIFAI_PAT=<your personal access token> "
                           "(or CLARIFAI_API_KEY), or pass --pat-file FILE\n")


def test_messages_name_flags_not_keyword_arguments() -> None:
    plaintext = run("inputs", "list", "--base", "grpc://10.9.8.7:5000", env=_env(CLARIFAI_PAT="k"))
    assert plaintext.returncode == 2 and "--allow-plaintext-credentials" in plaintext.stderr
    assert "=True" not in plaintext.stderr and "allow_plaintext_credentials" not in plaintext.stderr
    timeout = run("inputs", "list", "--timeout", "0", env=_env(CLARIFAI_PAT="k"))
    assert timeout.returncode == 2 and "argument --timeout: '0' is not a positive number of seconds" in timeout.stderr
    assert "None" not in timeout.stderr


@pytest.mark.parametrize(("verbose", "script"), [(False, True), (True, True), (False, False)],
                         ids=["script", "script-verbose", "python-m"])
def test_tls_at_a_plaintext_server_gives_a_hint_and_no_core_log(emu: Emulator, verbose: bool, script: bool) -> None:
    flags = ["--verbose"] if verbose else []
    proc = run("inputs", "list", "--base", emu.grpc_target, "--timeout", "3", *flags,
               env=_env(CLARIFAI_PAT=KEY, CLARIFAI_APP_ID="main"), script=script)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"hint: {emu.grpc_target} did not answer in TLS" in proc.stderr
    assert f"use --base grpc://{emu.grpc_target}" in proc.stderr
    if verbose:
        assert CORE_LOG.search(proc.stderr), proc.stderr  # asked for: gRPC core's own lines are shown
    elif CORE_HONOURS_VERBOSITY:
        assert not CORE_LOG.search(proc.stderr), proc.stderr
        assert [line.split(":")[0] for line in proc.stderr.splitlines()] == ["error", "hint"]
    else:
        ours = [line.split(":")[0] for line in proc.stderr.splitlines() if line.startswith(("error:", "hint:"))]
        assert ours == ["error", "hint"], proc.stderr


@pytest.mark.parametrize("transport", ["grpc", "json"])
def test_tls_at_a_plaintext_server_fails_at_once_with_the_hint(emu: Emulator, transport: str) -> None:
    """A TLS handshake with a plaintext server does not heal by waiting: no retrying until the deadline."""
    base = emu.grpc_target if transport == "grpc" else f"https://127.0.0.1:{emu.http_port}"
    plain = f"grpc://{emu.grpc_target}" if transport == "grpc" else f"http://127.0.0.1:{emu.http_port}"
    proc = run("inputs", "list", "--transport", transport, "--base", base, "--timeout", "60",
               env=_env(CLARIFAI_PAT=KEY, CLARIFAI_APP_ID="main"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"use --base {plain}" in proc.stderr, proc.stderr
    assert "WRONG_VERSION_NUMBER" in proc.stderr and "deadline" not in proc.stderr.lower(), proc.stderr


# --- serve and demo -------------------------------------------------------------------------


def _serve_block(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen([str(SCRIPT), "serve", "--log-level", "WARNING", *args], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        printed.append(line.rstrip("\n"))
        if "CLARIFAI_APP_ID" in line:
            break
    return proc, printed


@pytest.mark.parametrize("how", ["demo-key", "key-file", "env"])
def test_serve_prints_exports_that_work_when_pasted(tmp_path: Path, how: str) -> None:
    secret = "paste-test-key-" + how
    (tmp_path / "keys.txt").write_text(f"# keys\n{secret}\nsecond\n")
    args = ["--key-file", "keys.txt"] if how == "key-file" else []
    env = _env(CLARIFAI_EMULATOR_KEYS=f"{secret}, second") if how == "env" else _env()
    proc, printed = _serve_block(tmp_path, *args, env=env)
    try:
        exports = [line.strip() for line in printed if line.strip().startswith("export ")]
        assert [e.split("=")[0] for e in exports] == [f"export CLARIFAI_{n}" for n in
                                                   ("GRPC_BASE", "API_BASE", "PAT", "USER_ID", "APP_ID")], printed
        if how != "demo-key":
            assert secret not in "\n".join(printed)
        shell = "\n".join(exports) + f"\n{shlex.quote(str(SCRIPT))} inputs list && " \
                f"{shlex.quote(str(SCRIPT))} inputs list --transport json && echo listed-both"
        pasted = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert pasted.returncode == 0 and pasted.stdout.strip() == "listed-both", pasted.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


BLOCK_EMULATOR_EXTRA = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("grpc_reflection", "grpc_health"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from clarifai_grpc_client.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", [["serve"], ["serve", "--help"], ["demo"]])
def test_serve_and_demo_without_the_emulator_extra(command: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", BLOCK_EMULATOR_EXTRA, *command], env=_env(), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"'clarifai-grpc {command[0]}' needs the emulator extra" in proc.stderr
    assert "pip install 'clarifai-grpc-client[emulator]'" in proc.stderr
