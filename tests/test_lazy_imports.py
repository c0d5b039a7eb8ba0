"""Importing the package loads neither the HTTP stack nor stdlib modules it does not yet need."""

from __future__ import annotations

from .conftest import modules_loaded_by

HTTP_STACK = ("urllib3", "httpx", "h11", "httpcore", "anyio", "aiohttp", "yarl", "multidict")


def loaded_after(code: str) -> list[str]:
    """The top-level modules of the HTTP stack loaded by running ``code`` in a fresh interpreter."""
    loaded = {m.split(".")[0] for m in modules_loaded_by(code)}
    return [m for m in HTTP_STACK if m in loaded]


def test_import_loads_no_http_stack() -> None:
    assert loaded_after("import clarifai_grpc_client") == []


def test_grpc_client_loads_no_http_stack() -> None:
    code = ("import clarifai_grpc_client as c\n"
            "client = c.Client('grpc', 'grpc://127.0.0.1:1', pat='k', environ={})\n"
            "client.stub.ListInputs; client.v2.ListInputs; client.close()\n"
            "async def main():\n"
            "    async with c.AsyncClient('grpc', 'grpc://127.0.0.1:1', pat='k', environ={}) as a:\n"
            "        a.v2.ListInputs\n"
            "import asyncio; asyncio.run(main())")
    assert loaded_after(code) == []


def test_json_client_loads_it_on_demand() -> None:
    """A sync JSON client loads urllib3 and not aiohttp; an asyncio one, aiohttp and not urllib3; neither httpx."""
    code = "import clarifai_grpc_client as c\nc.Client('json', 'http://127.0.0.1:1', pat='k', environ={}).close()"
    loaded = loaded_after(code)
    assert loaded == ["urllib3"], loaded
    code = ("import asyncio, clarifai_grpc_client as c\n"
            "async def main():\n"
            "    async with c.AsyncClient('json', 'http://127.0.0.1:1', pat='k', environ={}) as a:\n"
            "        a.v2.ListInputs\n"
            "asyncio.run(main())")
    loaded = loaded_after(code)
    assert "aiohttp" in loaded and "urllib3" not in loaded and "httpx" not in loaded, loaded


def test_json_names_stay_public() -> None:
    import clarifai_grpc_client
    from clarifai_grpc_client._json_channel import AsyncJsonChannel, JsonChannel
    from clarifai_grpc_client._transports import AsyncHttpTransport, HttpTransport
    from clarifai_grpc_client._transports.http_async import AsyncHttpTransport as A
    from clarifai_grpc_client._transports.http_sync import HttpTransport as H

    assert clarifai_grpc_client.JsonChannel is JsonChannel
    assert clarifai_grpc_client.AsyncJsonChannel is AsyncJsonChannel
    assert (HttpTransport, AsyncHttpTransport) == (H, A)


def test_import_adds_no_stdlib_module_beyond_grpc_and_protobuf() -> None:
    """What the package itself adds to the import of its two dependencies: only ``dataclasses``
    (pathlib, urllib, ipaddress, mimetypes, hashlib and random load when a feature needs them)."""
    loaded = modules_loaded_by("import clarifai_grpc_client", setup="import grpc, grpc.aio, google.protobuf.message_factory")
    added = {m.split(".")[0] for m in loaded} - {"clarifai_grpc_client", "google"}
    assert added <= {"dataclasses"}, sorted(added)


def test_a_grpc_client_does_not_load_the_transcoder() -> None:
    """HTTP bindings are read on first JSON use, so a gRPC client and its stub skip the transcoder."""
    loaded = modules_loaded_by("import clarifai_grpc_client as c\n"
                               "client = c.Client('grpc', 'grpc://127.0.0.1:1', pat='k', environ={})\n"
                               "client.stub.ListInputs; client.close()")
    assert not {"clarifai_grpc_client._transcoding", "clarifai_grpc_client._json_format"} & loaded, sorted(loaded)
