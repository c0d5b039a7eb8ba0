"""``Client`` and ``AsyncClient``: a channel, the raw stub, and defaults, raising typed errors.

The raw ``stub`` keeps the API's semantics (a response whose ``status`` says what failed). The
client's own calls (``client.PostInputs(request)``, ``client.call("PostInputs", request)`` or the
typed ``client.v2.PostInputs(request)``) fill ``user_app_id`` from the client's defaults when the
request leaves it empty, and raise an :class:`~._errors.ApiError` subclass for any status other
than SUCCESS. All non-I/O logic is in :class:`_BaseClient`; the two classes add only the I/O.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, cast

import grpc
import grpc.aio
from google.protobuf.message import Message

from ._config import DEFAULT_TIMEOUT, ChannelConfig, Observer, build_config
from ._errors import ApiError, ConfigurationError, from_rpc_error, from_status
from ._grpc_channel import create_aio_grpc_channel, create_grpc_channel
from ._json_channel import AsyncJsonChannel, JsonChannel
from ._pagination import aiter_items, aiter_pages, iter_items, iter_pages
from ._streaming import AsyncInputStream, InputStream
from ._upload import IdMode, Item, Progress, UploadReport, aupload, upload
from ._retry import RetryPolicy
from ._status import SUCCESS
from .proto import UserAppIDSet
from .proto.clarifai.api import service_pb2
from .proto.clarifai.api.service_pb2_grpc import V2Stub

_V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
RPC_NAMES: frozenset[str] = frozenset(m.name for m in _V2.methods)


def open_channel(config: ChannelConfig) -> grpc.Channel:
    """The sync channel for ``config``'s transport."""
    return JsonChannel(config) if config.transport == "json" else create_grpc_channel(config)


def open_async_channel(config: ChannelConfig) -> grpc.aio.Channel:
    """The ``asyncio`` channel for ``config``'s transport."""
    return AsyncJsonChannel(config) if config.transport == "json" else create_aio_grpc_channel(config)


class _BaseClient:
    def __init__(
        self,
        transport: Literal["grpc", "json"] = "grpc",
        base: str | None = None,
        *,
        pat: str | None = None,
        api_key: str | None = None,
        user_id: str | None = None,
        app_id: str | None = None,
        insecure: bool = False,
        root_certificates: bytes | str | os.PathLike[str] | None = None,
        verify_tls: bool = True,
        allow_plaintext_credentials: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        grpc_options: Sequence[tuple[str, Any]] = (),
        request_id_prefix: str = "",
        observers: Sequence[Observer] = (),
        config: ChannelConfig | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if config is None:
            config = build_config(
                transport,
                base,
                pat=pat,
                api_key=api_key,
                insecure=insecure,
                root_certificates=root_certificates,
                verify_tls=verify_tls,
                allow_plaintext_credentials=allow_plaintext_credentials,
                timeout=timeout,
                retry=retry,
                metadata=metadata,
                grpc_options=grpc_options,
                request_id_prefix=request_id_prefix,
                observers=observers,
                environ=env,
            )
        self.config = config
        self.user_id = user_id or env.get("CLARIFAI_USER_ID") or ""
        self.app_id = app_id or env.get("CLARIFAI_APP_ID") or ""

    def _rpc(self, name: str) -> str:
        if name not in RPC_NAMES:
            raise ConfigurationError(f"{name!r} is not a V2 RPC")
        return name

    def prepare(self, request: Message) -> Message:
        """``request``, or a copy with ``user_app_id`` filled from the client's defaults."""
        fields = request.DESCRIPTOR.fields_by_name
        if "user_app_id" not in fields or not (self.user_id or self.app_id):
            return request
        ids = request.user_app_id  # type: ignore[attr-defined]
        if ids.user_id and ids.app_id:
            return request
        filled = type(request)()
        filled.CopyFrom(request)
        target = filled.user_app_id  # type: ignore[attr-defined]
        if not target.app_id and self.app_id:
            target.app_id = self.app_id
        if not target.user_id and self.user_id:
            target.user_id = self.user_id
        return filled

    def check(self, name: str, response: Any) -> Any:
        """``response`` when its status is SUCCESS, else the typed error for it."""
        status = getattr(response, "status", None)
        if status is not None and status.code != SUCCESS:
            raise from_status(status, method=name, response=response)
        return response

    def __repr__(self) -> str:
        scope = f", user_id={self.user_id!r}, app_id={self.app_id!r}" if self.user_id or self.app_id else ""
        return f"{type(self).__name__}({self.config.target}{scope})"


class _Checked:
    """Typed access to the client's checked calls: ``client.v2.PostInputs(request)``."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        client = self._client
        client._rpc(name)

        def call(request: Message, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
            return client.call(name, request, timeout=timeout, metadata=metadata)

        return call


class Client(_BaseClient):
    """A sync V2 client over gRPC (default) or HTTPS+JSON; see :func:`build_config` for the settings."""

    def __init__(self, *args: Any, channel: grpc.Channel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owns_channel = channel is None
        self.channel: grpc.Channel = channel if channel is not None else open_channel(self.config)
        self.stub = V2Stub(self.channel)

    @property
    def v2(self) -> V2Stub:
        """The stub interface, but with defaults filled and failing statuses raised as errors."""
        return cast(V2Stub, _Checked(self))

    def call(self, name: str, request: Message, *, timeout: float | None = None, metadata: Any = None) -> Any:
        """Call RPC ``name``; returns the response or raises an ApiError subclass."""
        method = getattr(self.stub, self._rpc(name))
        try:
            response = method(self.prepare(request), timeout=timeout, metadata=metadata)
        except ApiError:
            raise
        except grpc.RpcError as err:
            raise from_rpc_error(err, method=name) from None
        return self.check(name, response)

    def __getattr__(self, name: str) -> Any:
        if name in RPC_NAMES:
            return getattr(self.v2, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def iter_pages(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
        """Responses of a list or search RPC, page after page (see :mod:`._pagination`)."""
        return iter_pages(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def iter_items(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
        """The items of a list or search RPC (inputs, hits, models...) across pages."""
        return iter_items(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def stream_inputs(self, *, per_page: int = 1000, cursor: str = "", order_by_id: bool = False, descending: bool = False,
                      user_app_id: UserAppIDSet | None = None, outage_timeout: float = 300.0) -> InputStream:
        """Every input of the app exactly once, resumable from ``cursor`` (see :class:`InputStream`)."""
        return InputStream(self.call, per_page=per_page, cursor=cursor, order_by_id=order_by_id, descending=descending,
                           user_app_id=user_app_id, outage_timeout=outage_timeout)

    def upload_inputs(self, items: Iterable[Item], *, concurrency: int = 4, max_inputs: int = 128,
                      user_app_id: UserAppIDSet | None = None, progress: Progress | None = None,
                      ids: IdMode = "derived") -> UploadReport:
        """Post inputs in batches within the API's limits; returns a per-id report (see :mod:`._upload`).

        ``ids="derived"`` (the default) names each item by its content, so a rerun stores nothing
        twice; ``ids="random"`` stores every item anew."""
        return upload(self.call, items, concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id,
                      progress=progress, ids=ids)

    def close(self) -> None:
        if self._owns_channel:
            self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """The ``asyncio`` twin of :class:`Client`; calls are awaited."""

    def __init__(self, *args: Any, channel: grpc.aio.Channel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owns_channel = channel is None
        self.channel: grpc.aio.Channel = channel if channel is not None else open_async_channel(self.config)
        self.stub = V2Stub(self.channel)

    @property
    def v2(self) -> Any:
        """Like :attr:`Client.v2`, awaited: ``await client.v2.PostInputs(request)``."""
        return _Checked(self)

    async def call(self, name: str, request: Message, *, timeout: float | None = None, metadata: Any = None) -> Any:
        method = getattr(self.stub, self._rpc(name))
        try:
            response = await method(self.prepare(request), timeout=timeout, metadata=metadata)
        except ApiError:
            raise
        except grpc.RpcError as err:
            raise from_rpc_error(err, method=name) from None
        return self.check(name, response)

    def __getattr__(self, name: str) -> Any:
        if name in RPC_NAMES:
            return getattr(self.v2, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def iter_pages(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> AsyncIterator[Any]:
        return aiter_pages(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def iter_items(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> AsyncIterator[Any]:
        return aiter_items(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def stream_inputs(self, *, per_page: int = 1000, cursor: str = "", order_by_id: bool = False, descending: bool = False,
                      user_app_id: UserAppIDSet | None = None, outage_timeout: float = 300.0) -> AsyncInputStream:
        return AsyncInputStream(self.call, per_page=per_page, cursor=cursor, order_by_id=order_by_id,
                                descending=descending, user_app_id=user_app_id, outage_timeout=outage_timeout)

    async def upload_inputs(self, items: Iterable[Item], *, concurrency: int = 4, max_inputs: int = 128,
                            user_app_id: UserAppIDSet | None = None, progress: Progress | None = None,
                            ids: IdMode = "derived") -> UploadReport:
        return await aupload(self.call, items, concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id,
                             progress=progress, ids=ids)

    async def close(self) -> None:
        if self._owns_channel:
            await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
