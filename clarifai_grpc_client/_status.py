"""What Clarifai status codes mean to a client: their names, HTTP statuses, and which say "try again"."""

from __future__ import annotations

import functools

from .proto.clarifai.api.status import status_code_pb2

SUCCESS = status_code_pb2.SUCCESS
MIXED_STATUS = status_code_pb2.MIXED_STATUS

# In-body codes with which the service says it did not process the request and a later
# attempt may succeed. Retrying them is safe even for writes: nothing was written.
RETRYABLE_STATUS_CODES: frozenset[int] = frozenset(
    status_code_pb2.StatusCode.Value(name)
    for name in (
        "CONN_THROTTLED",
        "CONN_EXCEED_HOURLY_LIMIT",
        "TRY_AGAIN",
        "MODEL_DEPLOYING",
        "MODEL_LOADING",
        "MODEL_QUEUED_FOR_DEPLOYMENT",
        "MODEL_BUSY_PLEASE_RETRY",
        "RPC_SERVER_UNAVAILABLE",
        "RUNNER_NEEDS_RETRY",
        "INTERNAL_REDIS_UNAVAILABLE",
    )
)

_EXACT_HTTP: dict[str, int] = {
    "SUCCESS": 200,
    "MIXED_STATUS": 207,
    "FAILURE": 500,
    "TRY_AGAIN": 503,
    "NOT_IMPLEMENTED": 501,
    "CONN_EXCEED_HOURLY_LIMIT": 429,
    "CONN_EXCEED_MONTHLY_LIMIT": 429,
    "CONN_THROTTLED": 429,
    "CONN_EXCEEDS_LIMITS": 429,
    "RPC_REQUEST_TIMEOUT": 504,
    "INTERNAL_UNEXPECTED_TIMEOUT": 504,
}
# Checked in order against the code's name; the first match decides.
_NAME_HTTP: tuple[tuple[str, int], ...] = (
    ("_NOT_IMPLEMENTED", 501),
    ("_TOKEN_INVALID", 401),
    ("_CREDENTIALS_INVALID", 401),
    ("_KEY_INVALID", 401),
    ("_KEY_NOT_FOUND", 401),
    ("_INSUFFICIENT_SCOPES", 403),
    ("_PERMISSION_DENIED", 403),
    ("_DOES_NOT_EXIST", 404),
    ("_NOT_FOUND", 404),
    ("_DUPLICATE", 409),
    ("_ALREADY_EXISTS", 409),
    ("_DEPLOYING", 503),
    ("_LOADING", 503),
    ("_BUSY_PLEASE_RETRY", 503),
    ("_UNAVAILABLE", 503),
    ("_NEEDS_RETRY", 503),
    ("_TIMEOUT", 504),
    ("_OVER_LIMIT", 400),
    ("_INVALID", 400),
    ("_BAD_REQUEST", 400),
    ("_INTERNAL", 500),
    ("_FAILURE", 500),
)


def code_name(code: int) -> str:
    """``CONN_THROTTLED`` for 11005; ``UNKNOWN_STATUS_CODE_<n>`` for a code this build does not know."""
    try:
        return status_code_pb2.StatusCode.Name(code)  # type: ignore[arg-type]
    except ValueError:
        return f"UNKNOWN_STATUS_CODE_{code}"


@functools.lru_cache(maxsize=None)
def http_status_for_code(code: int) -> int:
    """The HTTP status the REST API pairs with a Clarifai status code."""
    name = code_name(code)
    if name in _EXACT_HTTP:
        return _EXACT_HTTP[name]
    for fragment, status in _NAME_HTTP:
        if fragment in name or name.startswith(fragment[1:]):
            return status
    return 400 if 11000 <= code < 12000 else 500
