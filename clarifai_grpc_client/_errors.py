"""One exception tree for every transport: Clarifai status codes and gRPC codes map onto HTTP statuses."""

from __future__ import annotations

import re
from typing import Any

import grpc

from ._status import code_name, http_status_for_code

_GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
_HTTP_TO_GRPC: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    500: grpc.StatusCode.INTERNAL,
    501: grpc.StatusCode.UNIMPLEMENTED,
    502: grpc.StatusCode.UNAVAILABLE,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def http_status_for_grpc(code: grpc.StatusCode) -> int:
    return _GRPC_TO_HTTP.get(code, 500)


def grpc_code_for_http(status: int) -> grpc.StatusCode:
    if status in _HTTP_TO_GRPC:
        return _HTTP_TO_GRPC[status]
    return grpc.StatusCode.INVALID_ARGUMENT if 400 <= status < 500 else grpc.StatusCode.UNKNOWN


class ClarifaiError(Exception):
    """Base of every error this package raises."""


class ConfigurationError(ClarifaiError, ValueError):
    """A client or channel was given settings it cannot use (bad base address, missing key, ...)."""


class TranscodingError(ClarifaiError, ValueError):
    """A request cannot be expressed as the HTTP call its ``google.api.http`` rule describes."""


class StreamingNotSupported(TranscodingError):
    """A call shape the HTTP/JSON transport cannot carry (bidirectional or client streaming)."""


class RequestTypeError(ClarifaiError, TypeError):
    """A call was given a request of the wrong type; the message names the expected one."""

    def __init__(self, method: str, expected: str, got: object) -> None:
        kind = type(got).__name__ if got is not None else "None"
        full = getattr(getattr(got, "DESCRIPTOR", None), "full_name", None)
        super().__init__(f"{method} takes a {expected} request, got {full or kind}")
        self.method = method
        self.expected = expected


class ApiError(ClarifaiError):
    """A call failed: a failing Clarifai ``status`` in the response, or a transport failure.

    Carries the Clarifai status code (number and name), its description and details, the
    server's ``req_id``, the HTTP status (real on the JSON transport, mapped on gRPC), and the
    gRPC code. ``response`` is the decoded response message when there was one.
    """

    http_status: int | None = None
    grpc_code: grpc.StatusCode | None = None

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        status_code: int = 0,
        description: str = "",
        details: str = "",
        req_id: str = "",
        http_status: int | None = None,
        grpc_code: grpc.StatusCode | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.status_code = status_code
        self.description = description
        self._details = details
        self.req_id = req_id
        self.response = response
        if http_status is not None:
            self.http_status = http_status
        if grpc_code is not None:
            self.grpc_code = grpc_code

    def details(self) -> str:
        """Clarifai's ``status.details`` (or the gRPC details), as ``grpc.RpcError.details()`` gives it."""
        return self._details

    @property
    def code_name(self) -> str:
        if self.status_code:
            return code_name(self.status_code)
        return self.grpc_code.name if self.grpc_code is not None else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, code={self.code_name or None}, req_id={self.req_id!r})"


class ClientError(ApiError):
    """The request was rejected as invalid or not allowed (HTTP 4xx)."""


class BadRequest(ClientError):
    http_status = 400
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class Unauthenticated(ClientError):
    http_status = 401
    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ClientError):
    http_status = 403
    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(ClientError):
    http_status = 404
    grpc_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ClientError):
    http_status = 409
    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class TooManyRequests(ClientError):
    """Throttled or over a usage limit; retried automatically while the policy allows."""

    http_status = 429
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class MessageTooLarge(ClientError):
    """A request or response exceeds the message size limit. Not retried: a repeat is just as large.

    ``size`` and ``limit`` are in bytes (``size`` is 0 when the transport did not say).
    """

    http_status = 413
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, *, size: int = 0, limit: int = 0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.size = size
        self.limit = limit


class Cancelled(ClientError):
    http_status = 499
    grpc_code = grpc.StatusCode.CANCELLED


class ServerError(ApiError):
    """The service failed or could not be reached (HTTP 5xx)."""


class InternalServerError(ServerError):
    http_status = 500
    grpc_code = grpc.StatusCode.INTERNAL


class MethodNotImplemented(ServerError):
    http_status = 501
    grpc_code = grpc.StatusCode.UNIMPLEMENTED


class ServiceUnavailable(ServerError):
    http_status = 503
    grpc_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(ServerError):
    http_status = 504
    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED


class InvalidResponse(ServerError):
    """The server answered with something that is not the expected message (an HTML page, cut JSON)."""

    http_status = 502
    grpc_code = grpc.StatusCode.UNKNOWN


class MixedStatus(ApiError):
    """Some items of a batch succeeded and some failed; ``response`` holds every item's status."""

    http_status = 207


_BY_HTTP: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: AlreadyExists,
    413: MessageTooLarge,
    429: TooManyRequests,
    499: Cancelled,
    500: InternalServerError,
    501: MethodNotImplemented,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: DeadlineExceeded,
    207: MixedStatus,
}


def error_class(http_status: int) -> type[ApiError]:
    """The most specific class for an HTTP status (4xx/5xx fall back to their family)."""
    if http_status in _BY_HTTP:
        return _BY_HTTP[http_status]
    return ClientError if 400 <= http_status < 500 else ServerError


class TransportError(ApiError, grpc.RpcError):
    """A JSON-transport failure shaped like ``grpc.RpcError``, so code written for gRPC handles both.

    ``outcome`` is what the retry decision needs to know about it (set by the transport).
    """

    outcome: Any = None

    def code(self) -> grpc.StatusCode:
        return self.grpc_code or grpc.StatusCode.UNKNOWN

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def initial_metadata(self) -> tuple[()]:
        return ()


def transport_error(message: str, *, method: str, http_status: int, grpc_code: grpc.StatusCode | None = None) -> TransportError:
    """A TransportError that is also an instance of the typed class for ``http_status``."""
    base = error_class(http_status)
    cls = _TRANSPORT_CLASSES.get(base)
    if cls is None:
        cls = type(base.__name__, (TransportError, base), {"__module__": __name__})
        _TRANSPORT_CLASSES[base] = cls
    return cls(message, method=method, http_status=http_status, grpc_code=grpc_code or grpc_code_for_http(http_status))


_TRANSPORT_CLASSES: dict[type[ApiError], type[TransportError]] = {}


class _TooLargeTransport(TransportError, MessageTooLarge):
    """A MessageTooLarge raised by the JSON transport, so that it is also a ``grpc.RpcError``."""


class StreamInterrupted(ApiError):
    """A stream failed after some messages were delivered; it is not retried (that would repeat them).

    ``delivered`` counts the responses handed to the caller; ``requests_sent`` counts the
    requests taken from the caller's iterator (bidirectional calls; None otherwise). The
    raised error is also an instance of the class for the failure (e.g. ServiceUnavailable).
    """

    delivered: int = 0
    requests_sent: int | None = None


_INTERRUPTED: dict[type[ApiError], type[StreamInterrupted]] = {}


def stream_interrupted(err: ApiError, *, delivered: int, requests_sent: int | None = None) -> StreamInterrupted:
    """``err`` re-raised as a StreamInterrupted of the same typed class, carrying the counts."""
    base = type(err)
    cls = _INTERRUPTED.get(base)
    if cls is None:
        cls = type(base.__name__, (StreamInterrupted, base), {"__module__": __name__})
        _INTERRUPTED[base] = cls
    sent = f", {requests_sent} requests sent" if requests_sent is not None else ""
    out = cls.__new__(cls)
    out.__dict__.update(err.__dict__)
    Exception.__init__(out, f"{err} (stream interrupted after {delivered} messages{sent})")
    out.delivered = delivered
    out.requests_sent = requests_sent
    return out


def from_status(status: Any, *, method: str, response: Any = None, http_status: int | None = None) -> ApiError:
    """The typed error for a response whose Clarifai ``status`` is not SUCCESS."""
    http = http_status if http_status and http_status >= 400 else http_status_for_code(status.code)
    name = code_name(status.code)
    text = f"{method}: {name} ({status.code})"
    if status.description:
        text += f": {status.description}"
    if status.details:
        text += f" ({status.details})"
    cls = error_class(http)
    return cls(
        text,
        method=method,
        status_code=status.code,
        description=status.description,
        details=status.details,
        req_id=status.req_id,
        http_status=http,
        grpc_code=grpc_code_for_http(http) if http >= 400 else None,
        response=response,
    )


_TOO_LARGE = r"(Sent|Received) message larger than max \((\d+) vs\. (\d+)\)"


def size_limit(details: str) -> tuple[int, int] | None:
    """``(size, limit)`` from gRPC's "message larger than max (X vs. Y)" text, else None."""
    m = re.search(_TOO_LARGE, details or "")
    return (int(m.group(2)), int(m.group(3))) if m else None


def too_large(method: str, size: int, limit: int, what: str = "message", grpc_like: bool = False) -> MessageTooLarge:
    """The typed error for a message over the limit (a TransportError too when ``grpc_like``)."""
    text = f"{method}: {what} of {size} bytes is over the {limit}-byte message limit" if size else (
        f"{method}: {what} is over the {limit}-byte message limit")
    cls: type[MessageTooLarge] = _TooLargeTransport if grpc_like else MessageTooLarge
    return cls(text, method=method, size=size, limit=limit, http_status=413, grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED)


def from_rpc_error(err: grpc.RpcError, *, method: str) -> ApiError:
    """The typed error for a gRPC transport failure (already-typed errors pass through)."""
    if isinstance(err, ApiError):
        return err
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else "") or ""
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        found = size_limit(details)
        if found is not None:
            direction = "request" if "Sent" in details else "response"
            return too_large(method, found[0], found[1], direction)
    http = http_status_for_grpc(code)
    return error_class(http)(
        f"{method}: gRPC {code.name}: {details}", method=method, details=details or "", http_status=http, grpc_code=code
    )
