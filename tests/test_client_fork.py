"""Clients across a fork: a child forked from a process with a busy client opens channels of its
own, for the clients it inherited and for new ones, over both transports. The fork happens in a
script of its own (fork_scenario.py), whose process holds only that client. The emulator runs in a
process of its own, as the service would (a process that forks workers hosts no gRPC server)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.proto import Data, Input, PostInputsRequest, Text

KEY = "fork-test-key-2c9d"
SCENARIO = Path(__file__).with_name("fork_scenario.py")


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[dict[str, str]]:
    """The emulator in a process of its own (a process that forks workers hosts no server), seeded with one input."""
    proc = subprocess.Popen([sys.executable, "-m", "clarifai_grpc_client.emulator", "--key", KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"gRPC (\S+)\s+HTTP (\S+)", line)
        assert found, f"unexpected first line from the emulator: {line!r}"
        bases = {"grpc": f"grpc://{found.group(1)}", "json": found.group(2)}
        with Client("grpc", bases["grpc"], pat=KEY, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID) as seed:
            seed.call("PostInputs", PostInputsRequest(inputs=[Input(id="one", data=Data(text=Text(raw="one")))]))
        yield bases
    finally:
        proc.terminate()
        proc.wait(30)


def test_clients_work_in_a_forked_child(emulator_process: dict[str, str], transport: str) -> None:
    """A child forked from a process with a busy client opens its own channel, and can build new clients."""
    done = subprocess.run([sys.executable, str(SCENARIO), transport, emulator_process[transport], KEY],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["child"].get("error") is None, report
    assert report["child"]["inherited"] == ["one"] and report["child"]["fresh"] == ["one"], report
    assert not report["same_channel"], report  # the child used a channel of its own, not the parent's
    assert report["exitcode"] == 0, report
    assert report["parent_before"] == report["parent_after"] == ["one"], report  # the parent's channel is untouched
