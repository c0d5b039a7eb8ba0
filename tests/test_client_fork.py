"""Clients across a fork: a child forked from a process with a busy client opens channels of its
own, for the clients it inherited and for new ones, over both transports. The emulator runs in a
process of its own, as the service would (a process that forks workers hosts no gRPC server)."""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.proto import Data, Input, ListInputsRequest, PostInputsRequest, Text

KEY = "fork-test-key-2c9d"


def _ids(client: Client) -> list[str]:
    return [i.id for i in client.call("ListInputs", ListInputsRequest()).inputs]


def _child(client: Client, settings: dict[str, Any], queue: Any) -> None:
    try:
        inherited = _ids(client)
        fresh = Client(**settings)
        queue.put((inherited, _ids(fresh), id(client.channel)))
    except BaseException as exc:  # reported to the parent, which fails the test
        queue.put(repr(exc))


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
    settings = dict(transport=transport, base=emulator_process[transport], pat=KEY, user_id=DEFAULT_USER_ID,
                    app_id=DEFAULT_APP_ID)
    client = Client(**settings)
    assert _ids(client) == ["one"]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(client, settings, queue))
    proc.start()
    result = queue.get(timeout=60)
    proc.join(30)
    assert result[:2] == (["one"], ["one"]), result
    assert result[2] != id(client.channel)  # the child used a channel of its own, not the parent's
    assert proc.exitcode == 0
    assert _ids(client) == ["one"]  # the parent's channel is untouched
    client.close()
