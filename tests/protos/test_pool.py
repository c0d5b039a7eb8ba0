"""Which descriptor pool our types live in, and what each choice means for user code.

The pure choice is tested directly; each mode is tested in a fresh interpreter (the choice is
made once, at import), with ``CLARIFAI_GRPC_CLIENT_DESCRIPTOR_POOL`` set explicitly, since this
test environment has the published ``clarifai-grpc`` installed and would otherwise always pick
the private pool.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from clarifai_grpc_client import _pool

ENV = _pool.ENV_VAR


def run(script: str, setting: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if setting is not None:
        env[ENV] = setting
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize(
    ("setting", "taken", "installed", "mode"),
    [
        (None, False, False, "default"),  # a user without clarifai-grpc
        ("auto", False, True, "private"),  # clarifai-grpc installed, not imported yet
        ("", True, False, "private"),  # something already registered clarifai.api
        ("default", False, True, "default"),  # the user promises not to import clarifai_grpc
        ("private", False, False, "private"),
        (" Private ", False, False, "private"),
    ],
)
def test_choose_mode(setting: str | None, taken: bool, installed: bool, mode: str) -> None:
    assert _pool.choose_mode(setting, taken, installed) == mode


def test_an_unknown_setting_is_refused_by_name() -> None:
    with pytest.raises(_pool.DescriptorPoolConflict, match=f"{ENV}='shared' is not one of auto, default, private"):
        _pool.choose_mode("shared", False, False)


def test_default_is_refused_when_the_names_are_taken() -> None:
    with pytest.raises(_pool.DescriptorPoolConflict, match=f"Unset {ENV}"):
        _pool.choose_mode("default", True, False)


def test_default_mode_takes_protobufs_own_well_known_types() -> None:
    result = run(
        """
        import json, sys
        from google.protobuf import json_format, struct_pb2, timestamp_pb2, descriptor_pool
        from clarifai_grpc_client import _json_format, _pool
        from clarifai_grpc_client.proto import Data, Input, Struct, Timestamp, V2Stub
        assert _pool.MODE == "default" and _pool.pool() is descriptor_pool.Default()
        assert Struct is struct_pb2.Struct and Timestamp is timestamp_pb2.Timestamp
        meta = struct_pb2.Struct()
        meta.update({"k": "v", "n": 2})
        when = timestamp_pb2.Timestamp(seconds=1700000000)
        a = Input(id="a", data=Data(metadata=meta), created_at=when)
        b = Input(id="a")
        b.data.metadata.CopyFrom(meta)
        b.created_at.CopyFrom(when)
        assert a == b
        doc = _json_format.to_dict(a)
        assert _json_format.parse_dict(doc, Input()) == a
        assert json_format.Parse(json_format.MessageToJson(a), Input()) == a
        assert "clarifai_grpc" not in sys.modules
        print(json.dumps(doc, sort_keys=True))
        """,
        "default",
    )
    assert result.returncode == 0, result.stderr
    assert '"metadata": {"k": "v", "n": 2.0}' in result.stdout
    assert '"created_at": "2023-11-14T22:13:20Z"' in result.stdout


def test_private_mode_takes_the_well_known_types_it_exports() -> None:
    result = run(
        """
        import json
        from google.protobuf import descriptor_pool, json_format, struct_pb2
        from clarifai_grpc_client import _json_format, _pool
        from clarifai_grpc_client.proto import Concept, Data, Input, Struct, Timestamp, well_known
        from clarifai_grpc_client.proto.clarifai.api.utils import extensions_pb2
        assert _pool.MODE == "private" and _pool.pool() is not descriptor_pool.Default()
        assert Struct is well_known.Struct and Struct is not struct_pb2.Struct
        assert Input.DESCRIPTOR.full_name == "clarifai.api.Input"  # names are the wire's
        meta = Struct()
        meta.update({"k": "v"})
        a = Input(id="a", data=Data(metadata=meta), created_at=Timestamp(seconds=1700000000))
        b = Input(id="a")
        b.data.metadata.CopyFrom(meta)
        b.created_at.FromSeconds(1700000000)
        assert a == b
        # protobuf's own classes belong to the default pool: the documented limitation
        try:
            b.data.metadata.CopyFrom(struct_pb2.Struct())
        except TypeError:
            refused = True
        else:
            refused = False
        # ... but the same bytes convert
        converted = Struct.FromString(struct_pb2.Struct(fields={"x": struct_pb2.Value(number_value=1)}).SerializeToString())
        assert converted["x"] == 1
        doc = _json_format.to_dict(a)
        assert _json_format.parse_dict(doc, Input()) == a
        assert json_format.Parse(json_format.MessageToJson(a), Input()) == a
        opts = _pool.options(Concept.DESCRIPTOR.fields_by_name["value"])
        print(json.dumps({"doc": doc, "refused": refused,
                          "default_float": opts.Extensions[extensions_pb2.cl_default_float]}, sort_keys=True))
        """,
        "private",
    )
    assert result.returncode == 0, result.stderr
    out = __import__("json").loads(result.stdout)
    assert out["doc"] == {"id": "a", "data": {"metadata": {"k": "v"}}, "created_at": "2023-11-14T22:13:20Z"}
    assert out["refused"] is True
    assert out["default_float"] == 1.0


def test_forcing_the_default_pool_next_to_the_published_package_fails_clearly() -> None:
    result = run(
        """
        import clarifai_grpc.grpc.api.service_pb2
        import clarifai_grpc_client
        """,
        "default",
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("clarifai_grpc_client._pool.DescriptorPoolConflict: clarifai.api types are already registered")
    assert f"Unset {ENV}" in last


def test_an_unknown_setting_fails_the_import_by_name() -> None:
    result = run("import clarifai_grpc_client", "sometimes")
    assert result.returncode != 0
    assert f"{ENV}='sometimes' is not one of auto, default, private" in result.stderr
