"""The HTTP/JSON wire format, without I/O: unary answers, and server-streamed answers.

A unary answer is one JSON object, the response message (with its Clarifai ``status``),
whatever the HTTP status. A server-streamed answer follows the grpc-gateway convention: the
body is a sequence of JSON objects, one per line (each object is followed by ``\\n``)::

    {"result": {"status": {"code": 10000}, "outputs": [...]}}
    {"result": {"status": {"code": 10000}, "outputs": [...]}}
    {"error": {"code": 14, "message": "backend went away", "details": []}}

``result`` holds one response message; ``error`` (a ``google.rpc.Status``: numeric gRPC code,
message, details) ends the stream with that failure. An object may arrive split across reads
and many may arrive in one read; :class:`JsonSequence` reassembles them. A body that ends in
the middle of an object is a cut stream. Anything that is not this format raises a
:class:`~.._errors.TransportError`, which is also a ``grpc.RpcError``.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from .. import _json_format
from .._errors import (
    InvalidResponse,
    StreamingNotSupported,
    TranscodingError,
    TransportError,
    http_status_for_grpc,
    too_large,
    transport_error,
)
from .._retry import Outcome, pushback_from_http
from .._transcoding import MethodRule, encode_request

_EXCERPT = 200
_GRPC_CODES = {c.value[0]: c for c in grpc.StatusCode}


def excerpt(body: bytes) -> str:
    text = body[:_EXCERPT].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("..." if len(body) > _EXCERPT else "")


def failure(message: str, *, method: str, http_status: int, outcome: Outcome,
            grpc_code: grpc.StatusCode | None = None) -> TransportError:
    """A typed TransportError carrying the Outcome the retry decision reads."""
    err = transport_error(message, method=method, http_status=http_status, grpc_code=grpc_code)
    err.outcome = outcome
    return err


class _InvalidTransport(TransportError, InvalidResponse):
    """An InvalidResponse raised by the JSON transport, so that it is also a ``grpc.RpcError``."""


def invalid(message: str, *, method: str) -> TransportError:
    """A reply that no repeat of the call would make readable: typed, and final for the retry decision."""
    err = _InvalidTransport(message, method=method, http_status=502, grpc_code=grpc.StatusCode.UNKNOWN)
    err.outcome = Outcome(http_status=502, permanent=True)
    return err


def decode_response(method: str, response_class: type[Message], status: int, content_type: str, body: bytes,
                    pushback: float | None = None) -> Message:
    """The response message from an HTTP answer, or a typed TransportError saying what was wrong."""
    bad_status = status if status >= 400 else 502
    outcome = Outcome(http_status=status if status >= 400 else None, pushback=pushback)
    try:
        node = _json_format.loads(body)
    except _json_format.JsonDepthError as exc:  # retrying cannot help: the same reply would come back
        raise invalid(f"{method}: HTTP {status}: {exc}", method=method) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        what = "an empty body" if not body.strip() else ("cut-off JSON" if body.lstrip()[:1] in (b"{", b"[") else "non-JSON")
        raise failure(f"{method}: HTTP {status} with {what} ({content_type or 'no content type'}): {excerpt(body)!r}",
                      method=method, http_status=bad_status, outcome=outcome) from None
    if not isinstance(node, dict) or (status >= 400 and "status" not in node):
        raise failure(f"{method}: HTTP {status} with JSON that is not a V2 response: {excerpt(body)!r}",
                      method=method, http_status=bad_status, outcome=outcome)
    return parse(method, response_class, node, status)


def parse(method: str, response_class: type[Message], node: dict[str, Any], status: int = 200) -> Message:
    try:
        return _json_format.parse_dict(node, response_class())
    except (json_format.ParseError, RecursionError) as exc:
        raise failure(f"{method}: HTTP {status}: the JSON does not fit {response_class.DESCRIPTOR.full_name}: {exc}",
                      method=method, http_status=502, outcome=Outcome(http_status=502)) from None


def stream_error(method: str, error: Any, delivered_hint: str = "") -> TransportError:
    """The TransportError for a streamed ``{"error": {...}}`` object (a ``google.rpc.Status``)."""
    if not isinstance(error, dict):
        error = {"message": str(error)}
    raw_code = error.get("code", 2)
    code = _GRPC_CODES.get(raw_code if isinstance(raw_code, int) else 2, grpc.StatusCode.UNKNOWN)
    if isinstance(raw_code, str):
        code = getattr(grpc.StatusCode, raw_code, grpc.StatusCode.UNKNOWN)
    text = str(error.get("message", ""))
    return failure(f"{method}: stream error {code.name}: {text}{delivered_hint}", method=method,
                   http_status=http_status_for_grpc(code), outcome=Outcome(grpc_code=code), grpc_code=code)


def stream_item(method: str, response_class: type[Message], node: Any) -> Message:
    """The message in one streamed object, or the TransportError its ``error`` describes."""
    if isinstance(node, dict):
        if "result" in node and isinstance(node["result"], dict):
            return parse(method, response_class, node["result"])
        if "error" in node:
            raise stream_error(method, node["error"])
    raise failure(f"{method}: streamed JSON object is neither a result nor an error: {excerpt(json.dumps(node).encode())!r}",
                  method=method, http_status=502, outcome=Outcome(http_status=502))


def cut_stream(method: str, detail: str) -> TransportError:
    """The stream ended (or broke) in the middle of an object, or the connection was lost."""
    return failure(f"{method}: stream cut: {detail}", method=method, http_status=503,
                   outcome=Outcome(connection_failed=True))


class JsonSequence:
    """Splits a byte stream into JSON objects, one per line, whatever the read boundaries.

    A line that does not parse alone is kept and joined with the next ones (an object written
    over several lines); blank lines are skipped.
    """

    __slots__ = ("_buffer", "_pending")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending = b""

    def feed(self, chunk: bytes) -> list[Any]:
        """The objects completed by ``chunk``, in order."""
        data = self._buffer + chunk if self._buffer else chunk
        if b"\n" not in data:
            self._buffer = data
            return []
        *lines, self._buffer = data.split(b"\n")
        out: list[Any] = []
        for line in lines:
            if self._pending:
                line = self._pending + b"\n" + line
            elif not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except (ValueError, RecursionError):
                self._pending = line
            else:
                self._pending = b""
        return out

    def finish(self) -> list[Any]:
        """The last object when the body did not end with a newline; ValueError if it is incomplete."""
        rest = (self._pending + b"\n" + self._buffer) if self._pending else self._buffer
        self._buffer = self._pending = b""
        if not rest.strip():
            return []
        try:
            return [json.loads(rest)]
        except (ValueError, RecursionError):
            raise ValueError(f"the body ended inside a JSON object: {excerpt(rest)!r}") from None


def read_timeout(idle: float | None, deadline: float | None, method: str) -> tuple[float | None, bool]:
    """The timeout of the next read and whether it is the deadline (not the idle timeout) that bounds it."""
    if deadline is None:
        return idle, False
    left = deadline - time.monotonic()
    if left <= 0:
        raise deadline_passed(method)
    if idle is None or left <= idle:
        return left, True
    return idle, False


def deadline_passed(method: str) -> Exception:
    return failure(f"{method}: stream deadline exceeded", method=method, http_status=504,
                   outcome=Outcome(grpc_code=grpc.StatusCode.DEADLINE_EXCEEDED))


def oversize(method: str, size: int, limit: int, what: str) -> TransportError:
    """A message over the size limit: typed, and final for the retry decision."""
    err = too_large(method, size, limit, what, grpc_like=True)
    assert isinstance(err, TransportError)
    err.outcome = Outcome(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, permanent=True)
    return err


def headers_for(metadata: Any) -> dict[str, str]:
    """Call metadata as HTTP headers (binary values base64, repeated keys joined)."""
    headers: dict[str, str] = {}
    for key, value in metadata:
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode()
        headers[key] = value if key not in headers else f"{headers[key]}, {value}"
    return headers


class Prepared:
    """One request as an HTTP call: verb, URL, JSON body and headers (no I/O)."""

    __slots__ = ("verb", "path", "url", "body", "headers")

    def __init__(self, method: str, rule: MethodRule, request: Message, metadata: Any, limit: int) -> None:
        http = encode_request(rule, request)
        self.verb, self.path, self.url = http.verb, http.path, http.url_path()
        self.body = _json_format.dumps(http.body) if http.body is not None else None
        if self.body is not None and len(self.body) > limit:
            raise oversize(method, len(self.body), limit, "request")
        self.headers = headers_for(metadata)
        if self.body is not None:
            self.headers["content-type"] = "application/json"


def tls_reason(exc: BaseException) -> str:
    """OpenSSL's reason when a TLS error lies behind ``exc`` (e.g. a plaintext server answered), else ""."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            return f": TLS {seen.reason or type(seen).__name__}"
        seen = seen.__cause__ or seen.__context__
    return ""


def failed_connection(method: str, where: str, kind: str, *, timed_out: bool, not_sent: bool,
                      tls: str = "") -> TransportError:
    """A call that got no answer, as a typed TransportError: ``kind`` names the HTTP library's exception.

    ``not_sent`` says the request never left (the connection could not be made); a TLS failure
    (a plaintext server, an untrusted certificate) does not heal by waiting.
    """
    if timed_out:
        return failure(f"{method}: {where}: deadline exceeded ({kind})", method=method,
                       http_status=504, outcome=Outcome(grpc_code=grpc.StatusCode.DEADLINE_EXCEEDED))
    what = f"{'cannot connect' if not_sent else 'connection lost'} ({kind}{tls})"
    outcome = Outcome(connection_failed=True, not_sent=not_sent, permanent=bool(tls))
    return failure(f"{method}: {where}: {what}", method=method, http_status=503, outcome=outcome)


def answer(method: str, response_class: type[Message], status: int, headers: Any, content: bytes, limit: int) -> Message:
    """The response of a unary call from its HTTP status, headers and body."""
    if len(content) > limit:
        raise oversize(method, len(content), limit, "response")
    return decode_response(method, response_class, status, headers.get("content-type", ""), content,
                           pushback_from_http(headers.get("retry-after")))


def rule_of(method: Any) -> MethodRule:
    """The HTTP bindings of ``method``, or a TranscodingError when it has none."""
    rule: MethodRule | None = method.http_rule
    if rule is None:
        raise TranscodingError(f"{method.name} has no HTTP binding and cannot be called over JSON; use gRPC")
    return rule


def no_json_form(method: Any) -> StreamingNotSupported:
    kind = "bidirectional-streaming" if method.server_streaming else "client-streaming"
    return StreamingNotSupported(
        f"{method.name} is a {kind} RPC, which the HTTP/JSON transport cannot carry; call it over gRPC"
    )


def stream_refusal(method: str, response_class: type[Message], status: int, headers: Any, body: bytes,
                   limit: int) -> Message:
    """A stream answered with HTTP ``status`` != 200: its one message, or the error it describes.

    The body is one ``{"error": ...}`` or ``{"result": ...}`` object, or a plain V2 response.
    """
    try:
        node = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        node = None
    if isinstance(node, dict) and ("error" in node or "result" in node) and "status" not in node:
        if "error" in node:
            err = stream_error(method, node["error"])
            err.http_status = status if status >= 400 else err.http_status
            err.outcome = Outcome(grpc_code=err.grpc_code, pushback=pushback_from_http(headers.get("retry-after")))
            raise err
        return stream_item(method, response_class, node)
    return answer(method, response_class, status, headers, body, limit)
