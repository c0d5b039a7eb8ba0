"""``Client`` and ``AsyncClient``: a channel, the raw stub, typed methods and defaults.

The raw ``stub`` keeps the API's semantics (a response whose ``status`` says what failed). The
client's own calls (``client.PostInputs(request)``, ``client.v2.PostInputs(request)`` or
``client.call("PostInputs", request)``) fill ``user_app_id`` and the inference routing from
the client's defaults when the request leaves them empty, check each response's (and each
streamed message's) status, and raise an :class:`~._errors.ApiError` subclass for anything
other than SUCCESS. The typed methods are generated from the descriptors
(:mod:`.proto.v2_client_methods`); everything here that is not I/O is in :class:`_Settings`.
Building a client opens no connection and makes no RPC.

A client pickles as its settings, never a channel: the unpickled copy (in an engine's worker,
say) opens its own channel on first use and keeps it for the life of that process, and a child
forked from a process with clients opens new channels instead of using its parent's.
:meth:`_Settings.with_environment_credentials` leaves the key out of the pickle, to be read
from the unpickling process's ``CLARIFAI_PAT`` (or ``CLARIFAI_API_KEY``).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import sys
import threading
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import grpc
import grpc.aio
from google.protobuf.message import Message

from ._calls import Metadata, Method, Routing, v2_method
from ._config import (
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
    MAX_MESSAGE_BYTES,
    AttemptTracer,
    ChannelConfig,
    Credentials,
    Observer,
    build_config,
)
from ._errors import ConfigurationError
from ._grpc_channel import AsyncGrpcChannel, GrpcChannel, create_aio_grpc_channel, create_grpc_channel
from ._pagination import aiter_items, aiter_pages, iter_items, iter_pages
from ._policy import AsyncResponseStream, Policy, ResponseStream
from ._retry import RetryPolicy
from ._streaming import AsyncInputStream, InputStream
from ._transports import AioGrpcTransport, GrpcTransport
from ._upload import IdMode, Item, Progress, UploadReport, aupload, upload
from .proto.v2_client_methods import RPC_NAMES, AsyncV2Methods, SyncV2Methods

R = TypeVar("R", bound=Message)
S = TypeVar("S", bound="_Settings")
if TYPE_CHECKING:
    from .proto import UserAppIDSet, V2Stub

_UNSET: Any = object()


def _v2_stub(channel: grpc.Channel | grpc.aio.Channel) -> V2Stub:
    """The generated stub on ``channel``, imported with the first client: with it load all the message modules."""
    from .proto.clarifai.api.service_pb2_grpc import V2Stub

    return V2Stub(channel)


# Pickling and forks: a client travels as its settings; its channel is opened where it is used.
_LAZY = frozenset({"channel", "_transport", "stub"})
_open_lock = threading.Lock()
_reopenable: weakref.WeakSet[_Settings] = weakref.WeakSet()  # clients whose channel comes from their config


def _after_fork_in_child() -> None:
    """A forked child never uses its parent's channels: each client it inherited opens its own on first use."""
    global _open_lock
    _open_lock = threading.Lock()
    for client in list(_reopenable):
        for name in _LAZY:
            client.__dict__.pop(name, None)
        client._exchanges = {}
        client._owns_channel = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _environment_credentials() -> Credentials | None:
    """The key of this process's ``CLARIFAI_PAT`` (else ``CLARIFAI_API_KEY``), or None."""
    for name, kind in (("CLARIFAI_PAT", "pat"), ("CLARIFAI_API_KEY", "api_key")):
        value = os.environ.get(name)
        if value:
            return Credentials(value, kind)  # type: ignore[arg-type]
    return None


def open_channel(config: ChannelConfig) -> grpc.Channel:
    """The sync channel for ``config``'s transport (the HTTP stack is imported only for JSON)."""
    if config.transport == "json":
        from ._json_channel import JsonChannel

        return JsonChannel(config)
    return create_grpc_channel(config)


def open_async_channel(config: ChannelConfig) -> grpc.aio.Channel:
    """The ``asyncio`` channel for ``config``'s transport (the HTTP stack is imported only for JSON)."""
    if config.transport == "json":
        from ._json_channel import AsyncJsonChannel

        return AsyncJsonChannel(config)
    return create_aio_grpc_channel(config)


def _transport_of(channel: Any, grpc_class: type, json_class_name: str, wrap: Any) -> Any:
    """The transport of one of this package's channels, else ``wrap(channel)`` for a foreign gRPC channel.

    A JSON channel can exist only once its module is loaded, so the check never imports the HTTP stack.
    """
    json_module = sys.modules.get(f"{__package__}._json_channel")
    json_class: Any = getattr(json_module, json_class_name) if json_module is not None else ()
    ours: Any = channel if isinstance(channel, (grpc_class, json_class)) else None
    return ours.transport if ours is not None else wrap(channel)


class _Settings:
    """What both clients share and that does no I/O: config, ids, routing, request preparation."""

    config: ChannelConfig
    user_id: str
    app_id: str
    routing: Routing
    _policy: Policy
    _transport: Any
    _owns_channel: bool

    def _setup(self, transport: Literal["grpc", "json"], base: str | None, config: ChannelConfig | None,
               environ: Mapping[str, str] | None, user_id: str | None, app_id: str | None, routing: Routing,
               **settings: Any) -> None:
        env = os.environ if environ is None else environ
        if config is None:
            config = build_config(transport, base, environ=env, **settings)
        self.config = config
        self.user_id = user_id or env.get("CLARIFAI_USER_ID") or ""
        self.app_id = app_id or env.get("CLARIFAI_APP_ID") or ""
        self.routing = routing
        self._policy = Policy(config)
        self._exchanges: dict[tuple[str, str], tuple[Method[Any, Any], Any]] = {}

    def _exchange(self, method: Method[Any, Any] | str, shape: str) -> tuple[Method[Any, Any], Any]:
        key = (method if isinstance(method, str) else method.path, shape)
        found = self._exchanges.get(key)
        if found is None:
            m = v2_method(method) if isinstance(method, str) else method
            t = self._transport
            make = {"unary_unary": t.unary, "unary_stream": t.server_stream, "stream_stream": t.bidi,
                    "stream_unary": t.client_stream}[shape]
            found = self._exchanges[key] = (m, make(m))
        return found

    def _outage_call(self) -> Any:
        """``call`` for helpers that wait out outages themselves (within their own time budget):
        the retry policy without its wait for a connection."""
        return functools.partial(getattr(self, "call"), retry=self.config.retry.replace(wait_for_connection=False))

    def _rpc(self, name: str) -> str:
        if name not in RPC_NAMES:
            raise ConfigurationError(f"{name!r} is not a V2 RPC")
        return name

    def prepare(self, request: Message) -> Message:
        """``request``, or a copy with ``user_app_id`` and routing filled from the client's defaults."""
        if not isinstance(request, Message):
            return request  # the policy names the expected type
        if not self.routing.empty:
            request = self.routing.apply(request, self.user_id)
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

    def _prepare_all(self, requests: Any) -> Any:
        """The caller's requests, prepared one by one; a sequence stays a (re-iterable) sequence."""
        if isinstance(requests, Message) or requests is None or isinstance(requests, (str, bytes)):
            return requests  # refused, with the expected type, by the policy
        if isinstance(requests, Sequence):
            return [self.prepare(r) for r in requests]
        if isinstance(requests, AsyncIterable):
            async def prepared() -> AsyncIterator[Any]:
                async for r in requests:
                    yield self.prepare(r)

            return prepared()
        return (self.prepare(r) for r in requests)

    def _copy(self, timeout: Any, stream_timeout: Any, idle_timeout: Any, retry: Any, metadata: Any,
              user_id: Any, app_id: Any, routing: dict[str, Any]) -> Any:
        clone = copy.copy(self)
        changes: dict[str, Any] = {}
        if timeout is not _UNSET:
            changes["timeout"] = timeout
        if stream_timeout is not _UNSET:
            changes["stream_timeout"] = stream_timeout
        if idle_timeout is not _UNSET:
            changes["stream_idle_timeout"] = idle_timeout
        if retry is not _UNSET:
            changes["retry"] = retry
        if metadata is not _UNSET:
            changes["metadata"] = self.config.metadata + tuple(metadata)
        clone.config = dataclasses.replace(self.config, **changes) if changes else self.config
        clone._policy = Policy(clone.config)
        if user_id is not _UNSET:
            clone.user_id = user_id
        if app_id is not _UNSET:
            clone.app_id = app_id
        given = {k: v for k, v in routing.items() if v is not _UNSET}
        if given:
            clone.routing = self.routing.replace(**given)
        clone._owns_channel = False
        return clone

    def __repr__(self) -> str:
        scope = f", user_id={self.user_id!r}, app_id={self.app_id!r}" if self.user_id or self.app_id else ""
        return f"{type(self).__name__}({self.config.target}{scope})"

    # --- pickling: the settings travel, never a channel -----------------------------------------

    _environment_key = False

    def with_environment_credentials(self: S) -> S:
        """A copy (sharing this channel) whose pickle leaves the key out: wherever it is unpickled,
        the key is read from that process's ``CLARIFAI_PAT`` (else ``CLARIFAI_API_KEY``)."""
        clone = copy.copy(self)
        clone._owns_channel = False
        clone._environment_key = True
        return clone

    def __copy__(self: S) -> S:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if self in _reopenable:
            _reopenable.add(clone)
        return clone

    def __getstate__(self) -> dict[str, Any]:
        # Credentials refuse to pickle on their own; the client carries its key deliberately,
        # unless told to leave it to the environment of wherever it is unpickled.
        creds = self.config.credentials
        key = None if creds is None or self._environment_key else (creds.kind, creds.secret())
        return {"config": dataclasses.replace(self.config, credentials=None), "key": key, "user_id": self.user_id,
                "app_id": self.app_id, "routing": self.routing, "environment_key": self._environment_key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        config: ChannelConfig = state["config"]
        key = state["key"]
        creds = Credentials(key[1], key[0]) if key is not None else None
        if state["environment_key"]:
            creds = _environment_credentials()
        if creds is not None:
            config = dataclasses.replace(config, credentials=creds)
        self.config = config
        self.user_id = state["user_id"]
        self.app_id = state["app_id"]
        self.routing = state["routing"]
        self._environment_key = state["environment_key"]
        self._policy = Policy(config)
        self._exchanges = {}
        self._owns_channel = True

    if not TYPE_CHECKING:  # keeps misspelt attributes type errors
        def __getattr__(self, name: str) -> Any:
            # Reached only for attributes not set: the channel of an unpickled or forked client,
            # opened on first use and then kept for the life of the process.
            if name in _LAZY and "config" in self.__dict__:
                with _open_lock:
                    if name not in self.__dict__:
                        self._open()
                return self.__dict__[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _open(self) -> None:
        """Open this client's own channel from its config (each client class opens its kind)."""
        raise NotImplementedError


class Client(_Settings, SyncV2Methods):
    """A sync V2 client over gRPC (default) or HTTPS+JSON.

    Every setting is a keyword: credentials (``pat`` or ``api_key``, else ``CLARIFAI_PAT`` /
    ``CLARIFAI_API_KEY``), the default ``user_id``/``app_id``, TLS, ``timeout`` (unary calls,
    60 s), ``stream_timeout`` (whole streams, 600 s), ``idle_timeout`` (between two streamed
    messages, off), ``retry``, extra ``metadata``, ``max_message_bytes``, and the inference
    routing (``deployment_id``, or ``compute_cluster_id`` with ``nodepool_id``, and
    ``use_predict_cache``). :meth:`with_options` makes a copy with some of them changed.
    """

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
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        idle_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        grpc_options: Sequence[tuple[str, Any]] = (),
        request_id_prefix: str = "",
        observers: Sequence[Observer | AttemptTracer] = (),
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        deployment_id: str = "",
        compute_cluster_id: str = "",
        nodepool_id: str = "",
        runner_user_id: str = "",
        use_predict_cache: bool | None = None,
        config: ChannelConfig | None = None,
        environ: Mapping[str, str] | None = None,
        channel: grpc.Channel | None = None,
    ) -> None:
        routing = Routing(deployment_id, compute_cluster_id, nodepool_id, runner_user_id, use_predict_cache)
        self._setup(transport, base, config, environ, user_id, app_id, routing, pat=pat, api_key=api_key,
                    insecure=insecure, root_certificates=root_certificates, verify_tls=verify_tls,
                    allow_plaintext_credentials=allow_plaintext_credentials, timeout=timeout,
                    stream_timeout=stream_timeout, stream_idle_timeout=idle_timeout, retry=retry, metadata=metadata,
                    grpc_options=grpc_options, request_id_prefix=request_id_prefix, observers=observers,
                    max_message_bytes=max_message_bytes)
        self._owns_channel = channel is None
        self.channel: grpc.Channel = channel if channel is not None else open_channel(self.config)
        own = self.channel
        self._transport: Any = _transport_of(own, GrpcChannel, "JsonChannel", GrpcTransport)
        self.stub = _v2_stub(self.channel)
        if self._owns_channel:
            _reopenable.add(self)

    def _open(self) -> None:
        channel = open_channel(self.config)
        self._exchanges = {}
        self._transport = _transport_of(channel, GrpcChannel, "JsonChannel", GrpcTransport)
        self.stub = _v2_stub(channel)
        self.channel = channel
        _reopenable.add(self)

    def with_options(
        self,
        *,
        timeout: float | None = _UNSET,
        stream_timeout: float | None = _UNSET,
        idle_timeout: float | None = _UNSET,
        retry: RetryPolicy = _UNSET,
        metadata: Sequence[tuple[str, str]] = _UNSET,
        user_id: str = _UNSET,
        app_id: str = _UNSET,
        deployment_id: str = _UNSET,
        compute_cluster_id: str = _UNSET,
        nodepool_id: str = _UNSET,
        runner_user_id: str = _UNSET,
        use_predict_cache: bool | None = _UNSET,
    ) -> Client:
        """A copy sharing this client's channel, with the given defaults changed (``metadata`` is added)."""
        clone: Client = self._copy(timeout, stream_timeout, idle_timeout, retry, metadata, user_id, app_id, {
            "deployment_id": deployment_id, "compute_cluster_id": compute_cluster_id, "nodepool_id": nodepool_id,
            "runner_user_id": runner_user_id, "use_predict_cache": use_predict_cache})
        return clone

    @property
    def v2(self) -> SyncV2Methods:
        """The typed methods (the client itself): ``client.v2.PostInputs(request)``."""
        return self

    def _unary(self, name: str, request: Message, timeout: float | None,
               retry: RetryPolicy | None, metadata: Metadata | None) -> Any:
        method, exchange = self._exchange(name, "unary_unary")
        method.check(request)
        return self._policy.unary(exchange, method, self.prepare(request), timeout, metadata, retry, True)

    def _server_stream(self, name: str | Method[Any, Any], request: Message,
                       timeout: float | None, idle_timeout: float | None, retry: RetryPolicy | None,
                       metadata: Metadata | None) -> ResponseStream[Any]:
        method, opener = self._exchange(name, "unary_stream")
        method.check(request)
        return self._policy.server_stream(opener, method, self.prepare(request), timeout, metadata, retry, True,
                                          idle_timeout)

    def _bidi(self, name: str | Method[Any, Any], requests: Iterable[Any],
              timeout: float | None, idle_timeout: float | None, retry: RetryPolicy | None,
              metadata: Metadata | None) -> ResponseStream[Any]:
        method, opener = self._exchange(name, "stream_stream")
        return self._policy.bidi(opener, method, self._prepare_all(requests), timeout, metadata, retry, True,
                                 idle_timeout)

    def _client_stream(self, name: str, requests: Iterable[Any], timeout: float | None,
                       retry: RetryPolicy | None, metadata: Metadata | None) -> Any:
        method, exchange = self._exchange(name, "stream_unary")
        return self._policy.client_stream(exchange, method, self._prepare_all(requests), timeout, metadata,
                                          retry, True)

    def call(self, name: str, request: Message, *, timeout: float | None = None, metadata: Metadata | None = None,
             retry: RetryPolicy | None = None) -> Any:
        """Call unary RPC ``name``; returns the response or raises an ApiError subclass."""
        return self._unary(self._rpc(name), request, timeout, retry, metadata)

    def call_stream(self, method: str | Method[Any, R], request: Message, *, timeout: float | None = None,
                    idle_timeout: float | None = None, metadata: Metadata | None = None,
                    retry: RetryPolicy | None = None) -> ResponseStream[Any]:
        """Call a server-streaming RPC by name (or :class:`Method`); iterate the result."""
        return self._server_stream(method, request, timeout, idle_timeout, retry, metadata)

    def call_bidi(self, method: str | Method[Any, R], requests: Iterable[Any], *, timeout: float | None = None,
                  idle_timeout: float | None = None, metadata: Metadata | None = None,
                  retry: RetryPolicy | None = None) -> ResponseStream[Any]:
        """Call a bidirectional RPC by name (or :class:`Method`) with an iterable of requests."""
        return self._bidi(method, requests, timeout, idle_timeout, retry, metadata)

    def iter_pages(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
        """Responses of a list or search RPC, page after page (see :mod:`._pagination`)."""
        return iter_pages(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def iter_items(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> Iterator[Any]:
        """The items of a list or search RPC (inputs, hits, models...) across pages."""
        return iter_items(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def stream_inputs(self, *, per_page: int = 1000, cursor: str = "", order_by_id: bool = False, descending: bool = False,
                      user_app_id: UserAppIDSet | None = None, outage_timeout: float = 300.0) -> InputStream:
        """Every input of the app exactly once, resumable from ``cursor`` (see :class:`InputStream`)."""
        return InputStream(self._outage_call(), per_page=per_page, cursor=cursor, order_by_id=order_by_id, descending=descending,
                           user_app_id=user_app_id, outage_timeout=outage_timeout)

    def upload_inputs(self, items: Iterable[Item], *, concurrency: int = 4, max_inputs: int = 128,
                      user_app_id: UserAppIDSet | None = None, progress: Progress | None = None,
                      ids: IdMode = "derived") -> UploadReport:
        """Post inputs in batches within the API's limits; returns a per-id report (see :mod:`._upload`)."""
        return upload(self.call, items, concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id,
                      progress=progress, ids=ids)

    def close(self) -> None:
        if self._owns_channel and "channel" in self.__dict__:
            self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Settings, AsyncV2Methods):
    """The ``asyncio`` twin of :class:`Client`: unary calls are awaited, streams ``async for``-ed."""

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
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        idle_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        grpc_options: Sequence[tuple[str, Any]] = (),
        request_id_prefix: str = "",
        observers: Sequence[Observer | AttemptTracer] = (),
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        deployment_id: str = "",
        compute_cluster_id: str = "",
        nodepool_id: str = "",
        runner_user_id: str = "",
        use_predict_cache: bool | None = None,
        config: ChannelConfig | None = None,
        environ: Mapping[str, str] | None = None,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        routing = Routing(deployment_id, compute_cluster_id, nodepool_id, runner_user_id, use_predict_cache)
        self._setup(transport, base, config, environ, user_id, app_id, routing, pat=pat, api_key=api_key,
                    insecure=insecure, root_certificates=root_certificates, verify_tls=verify_tls,
                    allow_plaintext_credentials=allow_plaintext_credentials, timeout=timeout,
                    stream_timeout=stream_timeout, stream_idle_timeout=idle_timeout, retry=retry, metadata=metadata,
                    grpc_options=grpc_options, request_id_prefix=request_id_prefix, observers=observers,
                    max_message_bytes=max_message_bytes)
        self._owns_channel = channel is None
        self.channel: grpc.aio.Channel = channel if channel is not None else open_async_channel(self.config)
        own = self.channel
        self._transport: Any = _transport_of(own, AsyncGrpcChannel, "AsyncJsonChannel", AioGrpcTransport)
        self.stub = _v2_stub(self.channel)
        if self._owns_channel:
            _reopenable.add(self)

    def _open(self) -> None:
        channel = open_async_channel(self.config)
        self._exchanges = {}
        self._transport = _transport_of(channel, AsyncGrpcChannel, "AsyncJsonChannel", AioGrpcTransport)
        self.stub = _v2_stub(channel)
        self.channel = channel
        _reopenable.add(self)

    def with_options(
        self,
        *,
        timeout: float | None = _UNSET,
        stream_timeout: float | None = _UNSET,
        idle_timeout: float | None = _UNSET,
        retry: RetryPolicy = _UNSET,
        metadata: Sequence[tuple[str, str]] = _UNSET,
        user_id: str = _UNSET,
        app_id: str = _UNSET,
        deployment_id: str = _UNSET,
        compute_cluster_id: str = _UNSET,
        nodepool_id: str = _UNSET,
        runner_user_id: str = _UNSET,
        use_predict_cache: bool | None = _UNSET,
    ) -> AsyncClient:
        """A copy sharing this client's channel, with the given defaults changed (``metadata`` is added)."""
        clone: AsyncClient = self._copy(timeout, stream_timeout, idle_timeout, retry, metadata, user_id, app_id, {
            "deployment_id": deployment_id, "compute_cluster_id": compute_cluster_id, "nodepool_id": nodepool_id,
            "runner_user_id": runner_user_id, "use_predict_cache": use_predict_cache})
        return clone

    @property
    def v2(self) -> AsyncV2Methods:
        """Like :attr:`Client.v2`, awaited: ``await client.v2.PostInputs(request)``."""
        return self

    async def _unary(self, name: str, request: Message, timeout: float | None,
                     retry: RetryPolicy | None, metadata: Metadata | None) -> Any:
        method, exchange = self._exchange(name, "unary_unary")
        method.check(request)
        return await self._policy.aunary(exchange, method, self.prepare(request), timeout, metadata, retry, True)

    def _server_stream(self, name: str | Method[Any, Any], request: Message,
                       timeout: float | None, idle_timeout: float | None, retry: RetryPolicy | None,
                       metadata: Metadata | None) -> AsyncResponseStream[Any]:
        method, opener = self._exchange(name, "unary_stream")
        method.check(request)
        return self._policy.aserver_stream(opener, method, self.prepare(request), timeout, metadata, retry, True,
                                           idle_timeout)

    def _bidi(self, name: str | Method[Any, Any], requests: Iterable[Any] | AsyncIterable[Any],
              timeout: float | None, idle_timeout: float | None, retry: RetryPolicy | None,
              metadata: Metadata | None) -> AsyncResponseStream[Any]:
        method, opener = self._exchange(name, "stream_stream")
        return self._policy.abidi(opener, method, self._prepare_all(requests), timeout, metadata, retry, True,
                                  idle_timeout)

    async def _client_stream(self, name: str, requests: Iterable[Any] | AsyncIterable[Any],
                             timeout: float | None, retry: RetryPolicy | None, metadata: Metadata | None) -> Any:
        method, exchange = self._exchange(name, "stream_unary")
        return await self._policy.aclient_stream(exchange, method, self._prepare_all(requests), timeout,
                                                 metadata, retry, True)

    async def call(self, name: str, request: Message, *, timeout: float | None = None,
                   metadata: Metadata | None = None, retry: RetryPolicy | None = None) -> Any:
        """Call unary RPC ``name``; returns the response or raises an ApiError subclass."""
        return await self._unary(self._rpc(name), request, timeout, retry, metadata)

    def call_stream(self, method: str | Method[Any, R], request: Message, *, timeout: float | None = None,
                    idle_timeout: float | None = None, metadata: Metadata | None = None,
                    retry: RetryPolicy | None = None) -> AsyncResponseStream[Any]:
        """Call a server-streaming RPC by name (or :class:`Method`); ``async for`` the result."""
        return self._server_stream(method, request, timeout, idle_timeout, retry, metadata)

    def call_bidi(self, method: str | Method[Any, R], requests: Iterable[Any] | AsyncIterable[Any], *,
                  timeout: float | None = None, idle_timeout: float | None = None,
                  metadata: Metadata | None = None, retry: RetryPolicy | None = None) -> AsyncResponseStream[Any]:
        """Call a bidirectional RPC by name (or :class:`Method`) with an (async) iterable of requests."""
        return self._bidi(method, requests, timeout, idle_timeout, retry, metadata)

    def iter_pages(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> AsyncIterator[Any]:
        return aiter_pages(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def iter_items(self, name: str, request: Message, *, per_page: int | None = None, limit: int | None = None) -> AsyncIterator[Any]:
        return aiter_items(self.call, self._rpc(name), request, per_page=per_page, limit=limit)

    def stream_inputs(self, *, per_page: int = 1000, cursor: str = "", order_by_id: bool = False, descending: bool = False,
                      user_app_id: UserAppIDSet | None = None, outage_timeout: float = 300.0) -> AsyncInputStream:
        return AsyncInputStream(self._outage_call(), per_page=per_page, cursor=cursor, order_by_id=order_by_id,
                                descending=descending, user_app_id=user_app_id, outage_timeout=outage_timeout)

    async def upload_inputs(self, items: Iterable[Item], *, concurrency: int = 4, max_inputs: int = 128,
                            user_app_id: UserAppIDSet | None = None, progress: Progress | None = None,
                            ids: IdMode = "derived") -> UploadReport:
        return await aupload(self.call, items, concurrency=concurrency, max_inputs=max_inputs, user_app_id=user_app_id,
                             progress=progress, ids=ids)

    async def close(self) -> None:
        if self._owns_channel and "channel" in self.__dict__:
            await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

