"""Clients travel to other processes as their settings: pickled, unpickled with no channel until
first use, the key carried or left to the receiving environment. Over both transports, sync and
async, against the emulator (forks: test_client_fork.py)."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from clarifai_grpc_client import AsyncClient, Client, Unauthenticated
from clarifai_grpc_client._errors import ApiError
from clarifai_grpc_client.emulator import Emulator
from clarifai_grpc_client.emulator.auth import DEFAULT_APP_ID, DEFAULT_USER_ID
from clarifai_grpc_client.proto import Data, Input, ListInputsRequest, PostInputsRequest, Text

KEY = "pickle-test-key-7f3a"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(keys=[KEY]) as emu:
        emu_client = Client("grpc", f"grpc://{emu.grpc_target}", pat=KEY, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID)
        emu_client.call("PostInputs", PostInputsRequest(inputs=[Input(id="one", data=Data(text=Text(raw="one")))]))
        emu_client.close()
        yield emu


def _base(emu: Emulator, transport: str) -> str:
    return f"grpc://{emu.grpc_target}" if transport == "grpc" else emu.http_base


def _settings(emu: Emulator, transport: str) -> dict[str, Any]:
    return dict(transport=transport, base=_base(emu, transport), pat=KEY, user_id=DEFAULT_USER_ID, app_id=DEFAULT_APP_ID)


def _ids(client: Client) -> list[str]:
    return [i.id for i in client.call("ListInputs", ListInputsRequest()).inputs]


def test_an_unpickled_client_opens_its_channel_on_first_use_and_keeps_it(emulator: Emulator, transport: str) -> None:
    with Client(**_settings(emulator, transport)) as client:
        assert _ids(client) == ["one"]
        copy = pickle.loads(pickle.dumps(client))
    assert "channel" not in vars(copy)  # nothing was opened by unpickling
    assert repr(copy) == repr(client) and copy.user_id == DEFAULT_USER_ID and copy.app_id == DEFAULT_APP_ID
    assert _ids(copy) == ["one"]
    channel = copy.channel
    assert _ids(copy) == ["one"] and copy.channel is channel  # reused, not reopened per call
    copy.close()


def test_a_never_used_copy_closes_without_opening(emulator: Emulator) -> None:
    copy = pickle.loads(pickle.dumps(Client(**_settings(emulator, "grpc"))))
    copy.close()
    assert "channel" not in vars(copy)


def test_the_key_travels_unless_left_to_the_environment(emulator: Emulator, transport: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLARIFAI_PAT", raising=False)
    monkeypatch.delenv("CLARIFAI_API_KEY", raising=False)
    client = Client(**_settings(emulator, transport))
    assert KEY.encode() in pickle.dumps(client)
    portable = client.with_environment_credentials()
    data = pickle.dumps(portable)
    assert KEY.encode() not in data
    assert _ids(portable) == ["one"]  # the copy itself still has its key and shares the channel
    with pytest.raises(ApiError):
        _ids(pickle.loads(data))  # unpickled where no key is set: the call goes without one
    monkeypatch.setenv("CLARIFAI_PAT", KEY)
    assert _ids(pickle.loads(data)) == ["one"]
    monkeypatch.setenv("CLARIFAI_PAT", "some-other-key")
    with pytest.raises(Unauthenticated):
        _ids(pickle.loads(data))
    client.close()


def test_an_async_client_pickles_too(emulator: Emulator, transport: str) -> None:
    async def main() -> list[str]:
        client = AsyncClient(**_settings(emulator, transport))
        copy = pickle.loads(pickle.dumps(client))
        assert "channel" not in vars(copy)
        try:
            response = await copy.call("ListInputs", ListInputsRequest())
            return [i.id for i in response.inputs]
        finally:
            await copy.close()
            await client.close()

    assert asyncio.run(main()) == ["one"]


def test_pickling_leaves_the_settings_intact(emulator: Emulator) -> None:
    client = Client(**_settings(emulator, "json"), timeout=12.5, deployment_id="dep-1")
    copy = pickle.loads(pickle.dumps(client))
    assert copy.config.timeout == 12.5 and copy.routing.deployment_id == "dep-1"
    assert copy.config.target == client.config.target
    client.close()
