"""Immutable channel settings: where to connect, how, with which credentials and defaults.

Explicit arguments win over environment variables, which are read when a config is built
(never at import). One parser turns every accepted base-address form into a :class:`Target`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ._errors import ConfigurationError
from ._retry import RetryPolicy
from ._version import __version__

Transport = Literal["grpc", "json"]

DEFAULT_GRPC_BASE = "api.clarifai.com:443"
DEFAULT_API_BASE = "https://api.clarifai.com"
DEFAULT_TIMEOUT = 60.0
# A stream's whole-call deadline: long enough for a model to generate a long answer.
DEFAULT_STREAM_TIMEOUT = 600.0
MAX_MESSAGE_BYTES = 1024 * 1024 * 1024 - 1  # gRPC's int32 limit: the largest the API accepts
USER_AGENT = f"clarifai-grpc-client/{__version__}"

# A pattern, compiled (and cached by ``re``) when the first address is parsed, not at import.
_HOST = r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?|\[[0-9A-Fa-f:.]+\])$"


@dataclass(frozen=True)
class Target:
    """A parsed base address: transport, TLS on or off, host, port and (for JSON) a path prefix."""

    transport: Transport
    secure: bool
    host: str
    port: int
    path_prefix: str = ""

    @property
    def is_loopback(self) -> bool:
        """Only ``localhost`` and literal loopback addresses: any other name could resolve anywhere."""
        host = self.host.strip("[]")
        if host == "localhost":
            return True
        import ipaddress  # here: only a plaintext or credential check needs it

        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def grpc_target(self) -> str:
        """``host:port`` as gRPC wants it."""
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``https://host[:port][/prefix]`` as the JSON transport wants it."""
        scheme = "https" if self.secure else "http"
        default = 443 if self.secure else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{scheme}://{self.host}{port}{self.path_prefix}"

    def __str__(self) -> str:
        return self.base_url if self.transport == "json" else ("grpcs://" if self.secure else "grpc://") + self.grpc_target


def parse_base(value: str, transport: Transport) -> Target:
    """Parse a base address for ``transport``, raising ConfigurationError naming what is wrong.

    gRPC: ``host``, ``host:port`` or ``grpcs://host[:port]`` use TLS (port 443 by default);
    ``grpc://host:port`` is plaintext. JSON: ``https://host[:port][/prefix]`` (or a bare host,
    taken as HTTPS) and ``http://...`` for plaintext. Nothing is resolved or probed.
    """
    text = (value or "").strip()
    if not text:
        raise ConfigurationError(f"empty base address for the {transport} transport")
    if any(c.isspace() for c in text):
        raise ConfigurationError(f"base address {_redact_url(value)!r} contains whitespace")
    schemes = {"grpc": ("grpcs", "grpc"), "json": ("https", "http")}[transport]
    if "://" not in text:
        text = f"{schemes[0]}://{text}"
    from urllib.parse import urlsplit  # here: parsed once per client, not at import

    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"base address {_redact_url(value)!r} is malformed: {_redact_url(str(exc))}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        expected = " or ".join(f"{s}://" for s in schemes)
        raise ConfigurationError(
            f"base address {_redact_url(value)!r} has scheme {scheme}://; the {transport} transport takes {expected}"
        )
    if parts.username or parts.password:
        raise ConfigurationError(
            f"base address {_redact_url(value)!r} carries credentials; pass the key or PAT separately"
        )
    host = parts.hostname or ""
    if parts.netloc.startswith("[") and host and not host.startswith("["):
        host = f"[{host}]"
    if not host or not re.match(_HOST, host):
        raise ConfigurationError(f"base address {_redact_url(value)!r} has no valid host name")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"base address {_redact_url(value)!r} must not have a query or fragment")
    secure = scheme == schemes[0]
    path = parts.path.rstrip("/")
    if transport == "grpc" and path:
        raise ConfigurationError(f"gRPC base address {_redact_url(value)!r} must not have a path")
    if transport == "json" and path.endswith("/v2"):
        path = path[: -len("/v2")]  # the bindings already start with /v2
    if port is None:
        if transport == "grpc" and not secure:
            raise ConfigurationError(f"plaintext gRPC base address {_redact_url(value)!r} needs an explicit port")
        port = 443 if secure else 80
    return Target(transport=transport, secure=secure, host=host.lower(), port=port, path_prefix=path)


def _redact_url(value: str) -> str:
    """``value`` for an error message: user info, query string and fragment (where keys and
    passwords end up) replaced by ``<redacted>``."""
    text = re.sub(r"(^|//)[^/?#]*@", r"\1<redacted>@", value)
    text = re.sub(r"\?[^#]*", "?<redacted>", text)
    return re.sub(r"#.*", "#<redacted>", text, flags=re.S)


class Credentials:
    """An API key or personal access token, sent as ``authorization: Key <token>``.

    The token is never shown: not in ``repr``/``str``, logs or error messages.
    """

    __slots__ = ("_token", "kind")

    def __init__(self, token: str, kind: Literal["pat", "api_key"] = "pat") -> None:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError(f"the {kind} is empty")
        token = token.strip()
        if any(c.isspace() or ord(c) < 0x20 or ord(c) > 0x7E for c in token):
            raise ConfigurationError(f"the {kind} contains whitespace or non-printable characters")
        self._token = token
        self.kind = kind

    def metadata(self) -> tuple[str, str]:
        return ("authorization", f"Key {self._token}")

    def secret(self) -> str:
        """The raw token (for redaction filters and transports); do not log it."""
        return self._token

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, token=<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and other._token == self._token

    def __hash__(self) -> int:
        return hash(self._token)

    def __reduce__(self) -> Any:
        raise TypeError("Credentials cannot be pickled")


@dataclass(frozen=True)
class CallEvent:
    """One attempt of one call, as reported to an observer (metrics, tracing)."""

    method: str
    target: str
    transport: Transport
    attempt: int
    duration: float
    grpc_code: str
    status_code: str
    will_retry: bool


Observer = Callable[[CallEvent], None]


class AttemptScope(Protocol):
    """One attempt seen from its start: the metadata it adds to the request, and its end."""

    metadata: Sequence[tuple[str, str]]

    def end(self, event: CallEvent) -> None: ...


@runtime_checkable
class AttemptTracer(Protocol):
    """An observer that sees each attempt begin, before its metadata is built (for tracing).

    Given in ``observers``, it is kept apart from the plain observers: ``begin_attempt`` runs as
    each attempt starts and the scope it returns is ended with the attempt's event.
    """

    def begin_attempt(self, method: str, attempt: int, config: ChannelConfig) -> AttemptScope: ...


def split_observers(observers: Sequence[Observer | AttemptTracer]) -> tuple[tuple[Observer, ...], tuple[AttemptTracer, ...]]:
    """Plain observers and attempt tracers, each in the order given."""
    tracers = tuple(o for o in observers if isinstance(o, AttemptTracer))
    return tuple(o for o in observers if not isinstance(o, AttemptTracer)), tracers


@dataclass(frozen=True)
class ChannelConfig:
    """Everything a channel needs. Immutable; derive variants with the ``with_*`` methods."""

    target: Target
    credentials: Credentials | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    root_certificates: bytes | None = None
    verify_tls: bool = True
    allow_plaintext_credentials: bool = False
    metadata: tuple[tuple[str, str], ...] = ()
    grpc_options: tuple[tuple[str, Any], ...] = ()
    user_agent: str = USER_AGENT
    request_id_prefix: str = ""
    observers: tuple[Observer, ...] = ()
    tracers: tuple[AttemptTracer, ...] = ()
    http_max_connections: int = 100
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT
    stream_idle_timeout: float | None = None
    max_message_bytes: int = MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        for name in ("timeout", "stream_timeout", "stream_idle_timeout"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ConfigurationError(f"{name} must be a positive, finite number of seconds or None, got {value!r}")
        if not isinstance(self.max_message_bytes, int) or not 0 < self.max_message_bytes <= MAX_MESSAGE_BYTES:
            raise ConfigurationError(
                f"max_message_bytes must be between 1 and {MAX_MESSAGE_BYTES}, got {self.max_message_bytes!r}")
        check_metadata(self.metadata)
        if (
            self.credentials is not None
            and not self.target.secure
            and not self.target.is_loopback
            and not self.allow_plaintext_credentials
        ):
            raise ConfigurationError(
                f"refusing to send credentials in plaintext to {self.target.host}: use TLS, or pass "
                "allow_plaintext_credentials=True if this network is trusted"
            )

    @property
    def transport(self) -> Transport:
        return self.target.transport

    def with_timeout(self, timeout: float | None) -> ChannelConfig:
        return dataclasses.replace(self, timeout=timeout)

    def with_retry(self, retry: RetryPolicy) -> ChannelConfig:
        return dataclasses.replace(self, retry=retry)

    def with_credentials(self, credentials: Credentials | None) -> ChannelConfig:
        return dataclasses.replace(self, credentials=credentials)

    def with_metadata(self, metadata: Sequence[tuple[str, str]]) -> ChannelConfig:
        return dataclasses.replace(self, metadata=self.metadata + tuple(metadata))

    def with_observer(self, observer: Observer | AttemptTracer) -> ChannelConfig:
        if isinstance(observer, AttemptTracer):
            return dataclasses.replace(self, tracers=self.tracers + (observer,))
        return dataclasses.replace(self, observers=self.observers + (observer,))

    def call_metadata(self, extra: Sequence[tuple[str, str | bytes]] | None) -> list[tuple[str, str | bytes]]:
        """The metadata of one call: the caller's own first, then ours, credentials last (unless set)."""
        out: list[tuple[str, str | bytes]] = list(extra or ())
        keys = {k.lower() for k, _ in out}
        for k, v in self.metadata:
            if k not in keys:
                out.append((k, v))
        if self.request_id_prefix and "x-clarifai-request-id-prefix" not in keys:
            out.append(("x-clarifai-request-id-prefix", self.request_id_prefix))
        if self.credentials is not None and "authorization" not in keys:
            out.append(self.credentials.metadata())
        return out


_METADATA_KEY = re.compile(r"[a-z0-9._-]+")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*")


def check_metadata(pairs: Sequence[tuple[str, str | bytes]]) -> None:
    """Refuse metadata that gRPC or HTTP cannot carry, naming the key (never the value: it may be a secret).

    Keys are lowercase ASCII letters, digits, ``-``, ``_`` or ``.``; values are printable ASCII
    text, or bytes for keys ending in ``-bin`` (gRPC's binary metadata).
    """
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ConfigurationError(f"metadata must be (key, value) pairs, got a {type(pair).__name__}")
        key, value = pair
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise ConfigurationError(f"metadata key {key!r} must be lowercase ASCII letters, digits, '-', '_' or '.'")
        if key.endswith("-bin"):
            if not isinstance(value, bytes):
                raise ConfigurationError(f"metadata {key!r} ends in -bin, so its value must be bytes")
        elif not isinstance(value, str) or not _METADATA_VALUE.fullmatch(value):
            raise ConfigurationError(f"the value of metadata {key!r} must be printable ASCII text (no line breaks)")


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else None


def build_config(
    transport: Transport = "grpc",
    base: str | None = None,
    *,
    pat: str | None = None,
    api_key: str | None = None,
    insecure: bool = False,
    root_certificates: bytes | str | os.PathLike[str] | None = None,
    verify_tls: bool = True,
    allow_plaintext_credentials: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    metadata: Sequence[tuple[str, str]] = (),
    grpc_options: Sequence[tuple[str, Any]] = (),
    request_id_prefix: str = "",
    observers: Sequence[Observer | AttemptTracer] = (),
    environ: Mapping[str, str] | None = None,
    stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
    stream_idle_timeout: float | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> ChannelConfig:
    """A ChannelConfig from explicit arguments, falling back to the ``CLARIFAI_*`` environment.

    ``CLARIFAI_PAT`` (or ``CLARIFAI_API_KEY``), ``CLARIFAI_GRPC_BASE`` / ``CLARIFAI_API_BASE``
    and ``CLARIFAI_ROOT_CERTIFICATES_PATH`` are read here, not at import. ``insecure=True``
    turns a bare gRPC ``host:port`` into plaintext (like ``grpc://host:port``).
    """
    env = os.environ if environ is None else environ
    if transport not in ("grpc", "json"):
        raise ConfigurationError(f"transport must be 'grpc' or 'json', got {transport!r}")
    if base is None:
        base = _env(env, "CLARIFAI_GRPC_BASE" if transport == "grpc" else "CLARIFAI_API_BASE")
    if base is None:
        base = DEFAULT_GRPC_BASE if transport == "grpc" else DEFAULT_API_BASE
    if insecure and "://" not in base:
        base = ("grpc://" if transport == "grpc" else "http://") + base
    target = parse_base(base, transport)
    if pat is not None and api_key is not None:
        raise ConfigurationError("pass either pat or api_key, not both")
    credentials: Credentials | None = None
    if pat is not None:
        credentials = Credentials(pat, "pat")
    elif api_key is not None:
        credentials = Credentials(api_key, "api_key")
    elif _env(env, "CLARIFAI_PAT"):
        credentials = Credentials(env["CLARIFAI_PAT"], "pat")
    elif _env(env, "CLARIFAI_API_KEY"):
        credentials = Credentials(env["CLARIFAI_API_KEY"], "api_key")
    if root_certificates is None and _env(env, "CLARIFAI_ROOT_CERTIFICATES_PATH"):
        root_certificates = env["CLARIFAI_ROOT_CERTIFICATES_PATH"]
    certs: bytes | None = None
    if isinstance(root_certificates, bytes):
        certs = root_certificates
    elif root_certificates is not None:
        try:
            with open(root_certificates, "rb") as fh:
                certs = fh.read()
        except OSError as exc:
            raise ConfigurationError(f"cannot read root certificates {os.fspath(root_certificates)!r}: {exc.strerror}") from None
    if certs is not None and not target.secure:
        raise ConfigurationError("root certificates were given for a plaintext (non-TLS) base address")
    return ChannelConfig(
        target=target,
        credentials=credentials,
        timeout=timeout,
        retry=retry or RetryPolicy(),
        root_certificates=certs,
        verify_tls=verify_tls,
        allow_plaintext_credentials=allow_plaintext_credentials,
        metadata=tuple(metadata),
        grpc_options=tuple(grpc_options),
        request_id_prefix=request_id_prefix,
        observers=split_observers(observers)[0],
        tracers=split_observers(observers)[1],
        stream_timeout=stream_timeout,
        stream_idle_timeout=stream_idle_timeout,
        max_message_bytes=max_message_bytes,
    )
