"""The message modules load on first use: the client's import does not pay for all of the API."""

from __future__ import annotations

import sys

import pytest

from ..conftest import modules_loaded_by

API = "clarifai_grpc_client.proto.clarifai.api."


def message_modules_after(code: str) -> list[str]:
    """The generated message and service modules loaded by running ``code`` in a fresh interpreter."""
    return sorted(m for m in modules_loaded_by(code) if m.startswith(API) and m.endswith(("_pb2", "_pb2_grpc")))


def test_import_loads_only_the_status_codes() -> None:
    loaded = message_modules_after("import clarifai_grpc_client")
    assert set(loaded) <= {API + "status.status_code_pb2", API + "utils.extensions_pb2"}, loaded


def test_one_name_loads_its_own_module() -> None:
    loaded = message_modules_after("from clarifai_grpc_client.proto import Concept")
    assert API + "concepts_pb2" in loaded and API + "service_pb2" not in loaded, loaded


def test_a_client_loads_the_stub_and_its_messages() -> None:
    code = "import clarifai_grpc_client as c\nc.Client('grpc', 'grpc://127.0.0.1:1', pat='k', environ={}).close()"
    assert API + "service_pb2_grpc" in message_modules_after(code)


def test_every_public_name_resolves_to_its_generated_class() -> None:
    import clarifai_grpc_client.proto as proto

    assert set(proto.__all__) <= set(dir(proto))
    for name in proto.__all__:
        value = getattr(proto, name)
        assert getattr(value, "__name__", name) == name
    assert proto.Input is getattr(sys.modules[API + "core_pb2"], "Input")


def test_an_unknown_name_is_an_attribute_error() -> None:
    import clarifai_grpc_client.proto as proto

    with pytest.raises(AttributeError, match="NoSuchMessage"):
        proto.NoSuchMessage  # noqa: B018
    with pytest.raises(ImportError):
        exec("from clarifai_grpc_client.proto import NoSuchMessage", {})
