"""Every Python and shell snippet of the docs runs as written, against an emulator, offline.

The snippets are read from the Markdown on every run, so a new one is tested without any change
here. Each runs in a fresh folder holding the files the docs name (:data:`FILES`), with a fresh
emulator on 127.0.0.1 and only environment variables set: ``CLARIFAI_GRPC_BASE``,
``CLARIFAI_API_BASE``, ``CLARIFAI_PAT``, ``CLARIFAI_USER_ID`` and ``CLARIFAI_APP_ID`` (what
``clarifai-grpc serve`` prints), with this environment's ``bin`` first on ``PATH``. Python
snippets run with ``python -c``, shell snippets with ``bash -e -o pipefail -c``.

A snippet that cannot run offline (it installs packages, serves until interrupted, or takes
minutes) is marked by an HTML comment right before its fence::

    <!-- doc-test: check-only: the reason -->

and is still checked: Python compiles and the names it imports from ``clarifai_grpc_client``
exist; shell passes ``bash -n``, each ``clarifai-grpc`` command line parses with the command's
own argparse, each script it runs exists, and each extra it installs is declared.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clarifai_grpc_client import cli
from clarifai_grpc_client.demo import png
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator import cli as emulator_cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "protos/README.md", "benchmarks/README.md")
LANGUAGES = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
KEY = "docs-test-key"
MARKER = re.compile(r"<!--\s*doc-test:\s*(?P<mode>[a-z-]+)\s*:\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)

FILES: dict[str, bytes] = {
    # README "Whole apps" and "Command line"
    "b.png": png((40, 120, 200)),
    "photos/red.png": png((220, 20, 60)),
    "photos/holiday/teal.png": png((0, 128, 128)),
    "urls.txt": b"https://samples.clarifai.com/metro-north.jpg\nhttps://example.com/dog.jpg\n",
    "more.jsonl": b'{"id": "id1", "data": {"text": {"raw": "a football match"}}}\n'
                  b'{"id": "id2", "data": {"image": {"url": "https://example.com/train.jpg"}}}\n',
    # protos/README "Using the protos": a proto of the reader's own that imports ours
    "my_service.proto": b'syntax = "proto3";\npackage example;\nimport "clarifai/api/concepts.proto";\n'
                        b"message Tagged {\n  clarifai.api.Concept concept = 1;\n}\n",
}


WRITES = {"--descriptor_set_out=out.binpb": "out.binpb", "> inputs.jsonl": "inputs.jsonl", "cursor.txt": "cursor.txt"}


@dataclass(frozen=True)
class Snippet:
    doc: str
    line: int
    language: str
    code: str
    check_only: str | None  # the stated reason, for snippets that are only checked

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def snippets(doc: str) -> Iterator[Snippet]:
    """The Python and shell snippets of ``doc``, with the marker before each (if any)."""
    text = (ROOT / doc).read_text()
    for m in FENCE.finditer(text):
        language = LANGUAGES.get(m["lang"].lower())
        if language is None:
            continue
        before = text[: m.start()].rstrip().rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(before.strip())
        reason = None
        if marker:
            assert marker["mode"] == "check-only", f"{doc}: unknown doc-test mode {marker['mode']!r}"
            assert marker["reason"], f"{doc}: a check-only snippet needs its reason"
            reason = marker["reason"]
        yield Snippet(doc, text.count("\n", 0, m.start()) + 1, language, m["body"], reason)


ALL = [s for doc in DOCS for s in snippets(doc)]
RUN = [s for s in ALL if s.check_only is None]


def test_the_docs_have_snippets_and_markers_sit_on_fences() -> None:
    assert len(RUN) >= 6 and len(ALL) >= 14  # what the docs hold today: extraction must not lose any
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        for m in MARKER.finditer(text):
            after = text[m.end():].lstrip("\n")
            assert after.startswith("```"), f"{doc}: a doc-test marker must sit right before a fence: {m[0]}"
        unlabeled = [m["body"] for m in FENCE.finditer(text) if not m["lang"]]
        for body in unlabeled:  # commands hide in plain fences and would escape this test
            assert not re.search(r"^(\.venv/bin/)?(python3?|clarifai-grpc|pip) ", body, re.M), (doc, body)


# --- running ------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, data in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path


def _env(emu: Emulator) -> dict[str, str]:
    """This environment less any CLARIFAI_* setting, plus exactly the exports ``clarifai-grpc serve`` prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLARIFAI_", "GRPC_"))}
    for line in emulator_cli.export_lines(emu.grpc_target, emu.http_base, KEY):
        name, value = line.removeprefix("export ").split("=", 1)
        env[name] = value
    assert sorted(k for k in env if k.startswith("CLARIFAI_")) == [
        "CLARIFAI_API_BASE", "CLARIFAI_APP_ID", "CLARIFAI_GRPC_BASE", "CLARIFAI_PAT", "CLARIFAI_USER_ID"]
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT))
    return env


@pytest.mark.parametrize("snippet", RUN, ids=[s.name for s in RUN])
def test_snippet_runs_as_written(snippet: Snippet, workdir: Path) -> None:
    with Emulator(keys=(KEY,)) as emu:
        command = [sys.executable, "-c", snippet.code] if snippet.language == "python" else \
            ["bash", "-e", "-o", "pipefail", "-c", snippet.code]
        proc = subprocess.run(command, cwd=workdir, env=_env(emu), capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{snippet.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    for promise, made in WRITES.items():  # what a snippet says it writes, where it does not print it
        if promise in snippet.code:
            assert (workdir / made).stat().st_size > 0, f"{snippet.name} wrote no {made}:\n{proc.stderr}"


def test_the_headline_example_answers_with_concepts(workdir: Path) -> None:
    headline = next(s for s in RUN if s.doc == "README.md" and "general-image-recognition" in s.code
                    and s.language == "python")
    with Emulator(keys=(KEY,)) as emu:
        proc = subprocess.run([sys.executable, "-c", headline.code], cwd=workdir, env=_env(emu), capture_output=True,
                              text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == 20, proc.stderr
    assert all(re.fullmatch(r"[a-z ]+ 0\.\d+", line) for line in lines), lines


def test_the_demo_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "clarifai_grpc_client.cli", "demo"], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "streamed back 5 inputs" in proc.stdout, proc.stderr


# --- checking what cannot run -------------------------------------------------------------


def _imports_exist(code: str) -> None:
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clarifai_grpc_client"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert alias.name == "*" or hasattr(module, alias.name) or \
                    importlib.util.find_spec(f"{node.module}.{alias.name}") is not None, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("clarifai_grpc_client"):
                    importlib.import_module(alias.name)


def _commands(code: str) -> Iterator[list[str]]:
    """Each simple command of a shell snippet, as words (operators, redirections and comments removed)."""
    for line in code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        redirect = False
        for token in lexer:
            if token and all(c in "();<>|&" for c in token):
                redirect = ">" in token or "<" in token
                if not redirect and words:
                    yield words
                    words = []
                continue
            if redirect:
                redirect = False
                continue
            words.append(token)
        if words:
            yield words


def _exact(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` and its subcommands taking only whole flag names (the docs must not abbreviate)."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _exact(sub)
    return parser


def _check_command(words: list[str], extras: set[str]) -> None:
    program = Path(words[0]).name
    if program == "clarifai-grpc":
        if words[1:2] == ["serve"]:
            _exact(emulator_cli.build_parser()).parse_args(words[2:])
        else:
            _exact(cli.build_parser()).parse_args(words[1:])
    elif program.startswith("python"):
        args = words[1:]
        if args[:1] == ["-m"]:
            assert importlib.util.find_spec(args[1]) is not None, args[1]  # venv, pip, pytest, ...
        elif args and args[0].endswith(".py"):
            assert (ROOT / args[0]).is_file(), f"no script {args[0]}"
    if program == "pip" or words[1:3] == ["-m", "pip"]:
        for word in words:
            m = re.fullmatch(r"\.\[(.+)\]", word)
            if m:
                missing = set(m[1].split(",")) - extras
                assert not missing, f"undeclared extras {missing} in {' '.join(words)}"


def _declared_extras() -> set[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10: the installed metadata says the same
        return set(importlib.metadata.metadata("clarifai-grpc-client").get_all("Provides-Extra") or [])
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


CHECK = [s for s in ALL if s.check_only is not None]


@pytest.mark.parametrize("snippet", CHECK, ids=[s.name for s in CHECK])
def test_check_only_snippet_is_valid(snippet: Snippet) -> None:
    if snippet.language == "python":
        compile(snippet.code, snippet.name, "exec")
        _imports_exist(snippet.code)
        return
    syntax = subprocess.run(["bash", "-n", "-c", snippet.code], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
    extras = _declared_extras()
    commands = list(_commands(snippet.code))
    assert commands, snippet.code
    for words in commands:
        try:
            _check_command(words, extras)
        except SystemExit as exc:  # argparse refused the command line
            pytest.fail(f"{snippet.name}: {' '.join(words)!r} does not parse (exit {exc.code})")
