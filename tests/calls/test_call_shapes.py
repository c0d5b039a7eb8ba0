"""Every call shape through our gRPC channels, sync and ``asyncio``, on a small test service.

V2 has no client-streaming RPC, so a ``grpc.server`` with generic handlers serves one here
(plus a server-streaming and a bidirectional method outside V2), and the channels are driven
the way a generated stub drives them: ``channel.stream_unary(path, serializer, deserializer)``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from clarifai_grpc_client import ServiceUnavailable, build_config, create_aio_grpc_channel, create_grpc_channel
from clarifai_grpc_client._errors import from_rpc_error
from clarifai_grpc_client.proto import Text

from .conftest import FAST

SER, DESER = Text.SerializeToString, Text.FromString


class Service:
    """Joins streamed ``Text`` requests; fails the first ``fail`` calls of each method with UNAVAILABLE."""

    def __init__(self) -> None:
        self.fail: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.metadata: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def _enter(self, name: str, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.metadata.append(dict(context.invocation_metadata()))
            failing = self.fail.get(name, 0)
            if failing:
                self.fail[name] = failing - 1
        if failing:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")

    def join(self, requests: Iterator[Text], context: grpc.ServicerContext) -> Text:
        self._enter("Join", context)
        return Text(raw="+".join(r.raw for r in requests))

    def spell(self, request: Text, context: grpc.ServicerContext) -> Iterator[Text]:
        self._enter("Spell", context)
        for ch in request.raw:
            yield Text(raw=ch)

    def echo(self, requests: Iterator[Text], context: grpc.ServicerContext) -> Iterator[Text]:
        self._enter("Echo", context)
        for r in requests:
            yield Text(raw=r.raw.upper())


@pytest.fixture
def service() -> Iterator[tuple[Service, str]]:
    svc = Service()
    handlers = {
        "Join": grpc.stream_unary_rpc_method_handler(svc.join, DESER, SER),
        "Spell": grpc.unary_stream_rpc_method_handler(svc.spell, DESER, SER),
        "Echo": grpc.stream_stream_rpc_method_handler(svc.echo, DESER, SER),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Shapes", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield svc, f"grpc://127.0.0.1:{port}"
    server.stop(None).wait(5)


def config(base: str) -> Any:
    # These test methods are not V2 RPCs, so no idempotency rule knows them: allow their retries.
    return build_config("grpc", base, pat="shape-key", environ={}, retry=FAST.replace(retry_non_idempotent=True))


def test_sync_every_shape_with_metadata_and_retries(service: tuple[Service, str]) -> None:
    svc, base = service
    with create_grpc_channel(config(base)) as channel:
        join = channel.stream_unary("/test.Shapes/Join", SER, DESER)
        spell = channel.unary_stream("/test.Shapes/Spell", SER, DESER)
        echo = channel.stream_stream("/test.Shapes/Echo", SER, DESER)
        svc.fail = {"Join": 1, "Spell": 2, "Echo": 1}
        assert join([Text(raw="a"), Text(raw="b")]).raw == "a+b"  # a list is sent again
        assert [t.raw for t in spell(Text(raw="hey"))] == ["h", "e", "y"]
        assert [t.raw for t in echo([Text(raw="p"), Text(raw="q")], timeout=5)] == ["P", "Q"]
        assert [t.raw for t in echo(Text(raw=x) for x in ["r"])] == ["R"]
    assert svc.calls == {"Join": 2, "Spell": 3, "Echo": 3}
    assert all(md.get("authorization") == "Key shape-key" for md in svc.metadata)


def test_sync_a_consumed_request_iterator_is_never_sent_again(service: tuple[Service, str]) -> None:
    svc, base = service
    with create_grpc_channel(config(base)) as channel:
        join = channel.stream_unary("/test.Shapes/Join", SER, DESER)
        svc.fail = {"Join": 1}
        pulled: list[str] = []

        def requests() -> Iterator[Text]:
            for x in ["a", "b"]:
                pulled.append(x)
                yield Text(raw=x)

        with pytest.raises(grpc.RpcError) as info:
            join(requests())
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE  # the raw stub's error, as it came
    assert isinstance(from_rpc_error(info.value, method="Join"), ServiceUnavailable)
    assert svc.calls["Join"] == 1 and len(pulled) <= 2


async def test_async_every_shape(service: tuple[Service, str]) -> None:
    svc, base = service
    channel = create_aio_grpc_channel(config(base))
    try:
        join = channel.stream_unary("/test.Shapes/Join", SER, DESER)
        spell = channel.unary_stream("/test.Shapes/Spell", SER, DESER)
        echo = channel.stream_stream("/test.Shapes/Echo", SER, DESER)
        svc.fail = {"Join": 1, "Spell": 1}
        assert (await join([Text(raw="a"), Text(raw="b")])).raw == "a+b"
        assert [t.raw async for t in spell(Text(raw="yo"))] == ["y", "o"]

        async def requests():  # type: ignore[no-untyped-def]
            for x in ["m", "n"]:
                yield Text(raw=x)
                await asyncio.sleep(0)

        assert [t.raw async for t in echo(requests())] == ["M", "N"]
    finally:
        await channel.close()
    assert svc.calls["Join"] == 2 and svc.calls["Spell"] == 2


def test_idle_watchdog_threads_end_with_their_streams(service: tuple[Service, str]) -> None:
    _, base = service
    with create_grpc_channel(config(base)) as channel:
        spell = channel.unary_stream("/test.Shapes/Spell", SER, DESER)
        from clarifai_grpc_client._policy import Policy

        policy: Policy = channel.policy
        for _ in range(5):
            stream = policy.server_stream(channel.transport.server_stream(_spell_method()), _spell_method(),
                                          Text(raw="abc"), idle_timeout=5)
            assert [t.raw for t in stream] == ["a", "b", "c"]
        half = policy.server_stream(channel.transport.server_stream(_spell_method()), _spell_method(), Text(raw="abc"),
                                    idle_timeout=5)
        next(half)
        half.close()
        del spell
    deadline = threading.Event()
    for _ in range(50):
        if not [t for t in threading.enumerate() if t.name == "clarifai-stream-idle"]:
            break
        deadline.wait(0.05)
    assert [t for t in threading.enumerate() if t.name == "clarifai-stream-idle"] == []


def _spell_method() -> Any:
    from clarifai_grpc_client import Method

    return Method("/test.Shapes/Spell", Text, Text, "unary_stream")
