"""HTTPS+JSON channels that the generated ``V2Stub`` drives exactly like a gRPC channel.

Each unary call is transcoded from the method's ``google.api.http`` rule (:mod:`._transcoding`),
sent with httpx on a pooled keep-alive connection, and decoded back into the response message.
A response body carrying a Clarifai ``status`` is returned as is, whatever the HTTP status, as
over gRPC; what is not the expected message (an HTML page from a proxy, cut JSON, a dropped
connection) raises a :class:`~._errors.TransportError`, which is also a ``grpc.RpcError``.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import grpc.aio
import httpx
from google.protobuf import json_format, message_factory
from google.protobuf.message import Message

from . import _json_format
from ._calls import CallPolicy
from ._config import ChannelConfig
from ._errors import ConfigurationError, TranscodingError, TransportError, transport_error
from ._retry import Attempted, Outcome, pushback_from_http
from ._transcoding import HttpRequest, MethodRule, encode_request, service_rules

_EXCERPT = 200


def _v2_rules() -> dict[str, MethodRule]:
    from .proto.clarifai.api import service_pb2

    return service_rules(service_pb2.DESCRIPTOR.services_by_name["V2"])


def _headers(policy: CallPolicy, metadata: Sequence[tuple[str, str | bytes]] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in policy.call_metadata(metadata):
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        headers[key] = value if key not in headers else f"{headers[key]}, {value}"
    return headers


def _excerpt(body: bytes) -> str:
    text = body[:_EXCERPT].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("..." if len(body) > _EXCERPT else "")


def decode_response(method: str, response_class: type[Message], status: int, content_type: str, body: bytes) -> Message:
    """The response message from an HTTP answer, or a typed TransportError saying what was wrong."""
    try:
        node = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        what = "an empty body" if not body.strip() else ("cut-off JSON" if body.lstrip()[:1] in (b"{", b"[") else "non-JSON")
        raise transport_error(
            f"{method}: HTTP {status} with {what} ({content_type or 'no content type'}): {_excerpt(body)!r}",
            method=method,
            http_status=status if status >= 400 else 502,
        ) from None
    if not isinstance(node, dict) or (status >= 400 and "status" not in node):
        raise transport_error(
            f"{method}: HTTP {status} with JSON that is not a V2 response: {_excerpt(body)!r}",
            method=method,
            http_status=status if status >= 400 else 502,
        )
    try:
        return _json_format.parse_dict(node, response_class())
    except json_format.ParseError as exc:
        raise transport_error(
            f"{method}: HTTP {status}: the JSON does not fit {response_class.DESCRIPTOR.full_name}: {exc}",
            method=method,
            http_status=502,
        ) from None


class _Prepared:
    """Everything about one call that does not depend on the attempt."""

    __slots__ = ("method", "http", "url", "body", "headers", "timeout", "response_class", "policy")

    def __init__(self, channel: _JsonChannelBase, method: str, request: Message, timeout: Any, metadata: Any) -> None:
        policy = self.policy = channel.policy
        rule = channel.rule(method)
        self.method = method
        self.http: HttpRequest = encode_request(rule, request)
        self.url = self.http.url_path()
        self.body = json.dumps(self.http.body, separators=(",", ":")).encode() if self.http.body is not None else None
        self.headers = _headers(policy, metadata)
        if self.body is not None:
            self.headers["content-type"] = "application/json"
        self.timeout = policy.timeout(timeout)
        self.response_class = channel.response_class(rule)

    def finish(self, status: int, headers: httpx.Headers, content: bytes, started: float) -> Attempted[Message]:
        config = self.policy.config
        duration = time.perf_counter() - started
        pushback = pushback_from_http(headers.get("retry-after"))
        try:
            response = decode_response(self.method, self.response_class, status, headers.get("content-type", ""), content)
        except TransportError as err:
            failure = Outcome(http_status=status if status >= 400 else None, pushback=pushback)
            return Attempted(error=err, outcome=failure, duration=duration)
        outcome: Outcome | None = self.policy.outcome(response)
        if outcome is None and status in config.retry.retry_http_statuses and status >= 500:
            outcome = Outcome(http_status=status, pushback=pushback)
        elif outcome is not None:
            outcome = Outcome(status_code=outcome.status_code, http_status=status, pushback=pushback)
        return Attempted(value=response, outcome=outcome, duration=duration, response=response)

    def failed(self, exc: Exception, started: float) -> Attempted[Message]:
        """An httpx exception as a typed error plus its Outcome."""
        duration = time.perf_counter() - started
        where = f"{self.method}: {self.http.verb} {self.http.path}"
        if isinstance(exc, httpx.TimeoutException):
            err = transport_error(f"{where}: deadline exceeded ({type(exc).__name__})", method=self.method, http_status=504)
            return Attempted(error=err, outcome=Outcome(grpc_code=grpc.StatusCode.DEADLINE_EXCEEDED), duration=duration)
        not_sent = isinstance(exc, httpx.ConnectError)
        err = transport_error(
            f"{where}: {'cannot connect' if not_sent else 'connection lost'} ({type(exc).__name__})",
            method=self.method,
            http_status=503,
        )
        return Attempted(error=err, outcome=Outcome(connection_failed=True, not_sent=not_sent), duration=duration)


class _JsonChannelBase:
    """Per-channel state shared by the sync and async JSON channels (no module globals)."""

    def __init__(self, config: ChannelConfig) -> None:
        if config.transport != "json":
            raise ConfigurationError(f"{config.target} is not an HTTP(S) base URL")
        self.config = config
        self.policy = CallPolicy(config)
        self._rules = _v2_rules()
        self._classes: dict[str, type[Message]] = {}

    def rule(self, method: str) -> MethodRule:
        rule = self._rules.get(method)
        if rule is None:
            raise TranscodingError(f"{method} is not a V2 method with an HTTP binding")
        return rule

    def response_class(self, rule: MethodRule) -> type[Message]:
        cls = self._classes.get(rule.name)
        if cls is None:
            cls = self._classes[rule.name] = message_factory.GetMessageClass(rule.output_type)
        return cls

    def _client_args(self) -> dict[str, Any]:
        verify: bool | ssl.SSLContext = self.config.verify_tls
        if self.config.target.secure and self.config.root_certificates is not None:
            verify = ssl.create_default_context(cadata=self.config.root_certificates.decode())
        return {
            "base_url": self.config.target.base_url,
            "verify": verify,
            "headers": {"user-agent": self.config.user_agent, "accept": "application/json"},
            "limits": httpx.Limits(
                max_connections=self.config.http_max_connections,
                max_keepalive_connections=self.config.http_max_connections,
            ),
            "timeout": None,
            "follow_redirects": False,
            "trust_env": False,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.target})"


def _unsupported(kind: str) -> Callable[..., Any]:
    def call(*_: Any, **__: Any) -> Any:
        raise TranscodingError(f"{kind} RPCs have no HTTP/JSON binding in the V2 API; use a gRPC channel")

    return call


class _UnaryUnary:
    def __init__(self, channel: JsonChannel, method: str) -> None:
        self._channel = channel
        self._method = method

    def _invoke(self, request: Message, timeout: Any, metadata: Any) -> Message:
        channel = self._channel
        prepared = _Prepared(channel, self._method, request, timeout, metadata)

        def attempt(remaining: float | None) -> Attempted[Message]:
            started = time.perf_counter()
            try:
                r = channel.http.request(
                    prepared.http.verb, prepared.url, content=prepared.body, headers=prepared.headers, timeout=remaining
                )
            except httpx.TransportError as exc:
                return prepared.failed(exc, started)
            return prepared.finish(r.status_code, r.headers, r.content, started)

        response: Message = channel.policy.invoke(self._method, request, prepared.timeout, attempt).unwrap()
        return response

    def __call__(self, request: Message, timeout: float | None = None, metadata: Any = None, **_: Any) -> Message:
        return self._invoke(request, timeout, metadata)

    def with_call(self, request: Message, timeout: float | None = None, metadata: Any = None, **_: Any) -> tuple[Message, Any]:
        response = self._invoke(request, timeout, metadata)
        return response, _CompletedCall()

    def future(self, request: Message, timeout: float | None = None, metadata: Any = None, **_: Any) -> concurrent.futures.Future[Message]:
        return self._channel.executor().submit(self._invoke, request, timeout, metadata)


class _CompletedCall:
    """The ``call`` half of ``with_call`` for a finished JSON call."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK

    def details(self) -> str:
        return ""

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()


class JsonChannel(_JsonChannelBase, grpc.Channel):
    """A sync HTTP/JSON channel; ``V2Stub(JsonChannel(config))`` works like a gRPC stub."""

    def __init__(self, config: ChannelConfig, http_client: httpx.Client | None = None) -> None:
        super().__init__(config)
        self.http = http_client or httpx.Client(**self._client_args())
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="clarifai-json")
            return self._executor

    def unary_unary(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any
    ) -> Any:
        return _UnaryUnary(self, method)

    def unary_stream(self, *_: Any, **__: Any) -> Any:
        return _unsupported("server-streaming")

    def stream_unary(self, *_: Any, **__: Any) -> Any:
        return _unsupported("client-streaming")

    def stream_stream(self, *_: Any, **__: Any) -> Any:
        return _unsupported("bidirectional-streaming")

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        """Connectivity callbacks do not apply to HTTP; accepted and ignored."""

    def unsubscribe(self, callback: Any) -> None:
        """See :meth:`subscribe`."""

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.http.close()

    def __enter__(self) -> JsonChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncUnaryUnary:
    def __init__(self, channel: AsyncJsonChannel, method: str) -> None:
        self._channel = channel
        self._method = method

    async def _invoke(self, request: Message, timeout: Any, metadata: Any) -> Message:
        channel = self._channel
        prepared = _Prepared(channel, self._method, request, timeout, metadata)

        async def attempt(remaining: float | None) -> Attempted[Message]:
            started = time.perf_counter()
            try:
                r = await channel.http.request(
                    prepared.http.verb, prepared.url, content=prepared.body, headers=prepared.headers, timeout=remaining
                )
            except httpx.TransportError as exc:
                return prepared.failed(exc, started)
            return prepared.finish(r.status_code, r.headers, r.content, started)

        response: Message = (await channel.policy.ainvoke(self._method, request, prepared.timeout, attempt)).unwrap()
        return response

    def __call__(self, request: Message, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
        return self._invoke(request, timeout, metadata)


class AsyncJsonChannel(_JsonChannelBase, grpc.aio.Channel):
    """The ``asyncio`` HTTP/JSON channel; ``V2Stub(AsyncJsonChannel(config))`` is awaited like grpc.aio."""

    def __init__(self, config: ChannelConfig, http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(config)
        self.http = http_client or httpx.AsyncClient(**self._client_args())

    def unary_unary(
        self, method: str, request_serializer: Any = None, response_deserializer: Any = None, **_: Any
    ) -> Any:
        return _AsyncUnaryUnary(self, method)

    def unary_stream(self, *_: Any, **__: Any) -> Any:
        return _unsupported("server-streaming")

    def stream_unary(self, *_: Any, **__: Any) -> Any:
        return _unsupported("client-streaming")

    def stream_stream(self, *_: Any, **__: Any) -> Any:
        return _unsupported("bidirectional-streaming")

    async def close(self, grace: float | None = None) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncJsonChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return grpc.ChannelConnectivity.READY

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        raise TranscodingError("connectivity states do not apply to an HTTP/JSON channel")

    async def channel_ready(self) -> None:
        """HTTP connections are opened on demand; nothing to wait for."""
