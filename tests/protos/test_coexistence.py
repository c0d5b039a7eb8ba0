"""Our package and the published ``clarifai-grpc`` in one process, imported in either order.

Both define ``clarifai.api.*``; ours moves to a descriptor pool of its own when the published
package is present (``clarifai_grpc_client._pool``), so both import, and both stubs call the
emulator: each writes an input with a ``Struct`` and a ``Timestamp`` it built with its own
classes, and each reads what the other wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from clarifai_grpc_client import _pool
from clarifai_grpc_client.emulator import Emulator

KEY = "coexistence-key"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import grpc

    order, target, key = sys.argv[1:4]
    md = (("authorization", "Key " + key),)

    def published():
        from google.protobuf import struct_pb2, timestamp_pb2
        from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
        from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
        host, port = target.rsplit(":", 1)
        stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))
        app = resources_pb2.UserAppIDSet(user_id="me", app_id="main")
        meta = struct_pb2.Struct()
        meta.update({"by": "published"})
        item = resources_pb2.Input(id="from-published",
                                   data=resources_pb2.Data(text=resources_pb2.Text(raw="one"), metadata=meta),
                                   created_at=timestamp_pb2.Timestamp(seconds=1700000000))
        r = stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=app, inputs=[item]), metadata=md)
        assert r.status.code == 10000, r.status
        return lambda: stub.ListInputs(service_pb2.ListInputsRequest(user_app_id=app, per_page=10), metadata=md)

    def ours():
        from clarifai_grpc_client import _pool
        from clarifai_grpc_client.proto import (
            Data, Input, ListInputsRequest, PostInputsRequest, Struct, Text, Timestamp, UserAppIDSet, V2Stub)
        stub = V2Stub(grpc.insecure_channel(target))
        app = UserAppIDSet(user_id="me", app_id="main")
        meta = Struct()
        meta.update({"by": "ours"})
        item = Input(id="from-ours", data=Data(text=Text(raw="two"), metadata=meta), created_at=Timestamp(seconds=1700000001))
        r = stub.PostInputs(PostInputsRequest(user_app_id=app, inputs=[item]), metadata=md)
        assert r.status.code == 10000, r.status
        listing = lambda: stub.ListInputs(ListInputsRequest(user_app_id=app, per_page=10), metadata=md)
        return _pool.MODE, listing

    if order == "published-first":
        list_published = published()
        mode, list_ours = ours()
    else:
        mode, list_ours = ours()
        list_published = published()

    def seen(response):
        # (created_at is the emulator's clock, like the service's: the request's value only had to be accepted)
        return sorted((i.id, i.data.metadata["by"]) for i in response.inputs)

    print(json.dumps({"mode": mode, "ours": seen(list_ours()), "published": seen(list_published())}))
    """
)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(keys=(KEY,)) as e:
        yield e


@pytest.mark.parametrize("order", ["published-first", "ours-first"])
def test_both_packages_import_and_call_in_one_process(emu: Emulator, order: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != _pool.ENV_VAR}  # the automatic choice
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, order, emu.grpc_target, KEY], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    both = [["from-ours", "ours"], ["from-published", "published"]]
    assert out == {"mode": "private", "ours": both, "published": both}
