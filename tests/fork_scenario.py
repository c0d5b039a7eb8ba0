"""The fork scenario of test_client_fork.py, run as a script so that the fork happens in a process
that holds nothing but one busy client: gRPC skips its fork handlers (and a child's channels may
never connect) when other threads of the forking process are inside gRPC, as a test runner's are.

Usage: ``python fork_scenario.py TRANSPORT BASE KEY``; prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from typing import Any

from clarifai_grpc_client import Client
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.proto import ListInputsRequest


def _ids(client: Client) -> list[str]:
    return [i.id for i in client.call("ListInputs", ListInputsRequest()).inputs]


def _child(client: Client, settings: dict[str, Any], queue: Any, parent_channel: Any) -> None:
    try:
        inherited = _ids(client)
        fresh = Client(**settings)
        # parent_channel keeps the parent's channel object alive here, so no new object can take its id
        queue.put({"inherited": inherited, "fresh": _ids(fresh), "same_channel": client.channel is parent_channel})
    except BaseException as exc:  # reported to the parent, which fails the test
        queue.put({"error": repr(exc)})


def main(transport: str, base: str, key: str) -> dict[str, Any]:
    settings = dict(transport=transport, base=base, pat=key, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID)
    client = Client(**settings)
    report: dict[str, Any] = {"parent_before": _ids(client)}
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(client, settings, queue, client.channel))
    proc.start()
    report["child"] = queue.get(timeout=60)
    proc.join(30)
    report["exitcode"] = proc.exitcode
    report["same_channel"] = report["child"].get("same_channel")
    report["parent_after"] = _ids(client)
    client.close()
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
