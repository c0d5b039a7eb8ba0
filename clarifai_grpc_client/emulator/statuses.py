"""Building ``clarifai.api.status.Status`` values, and the exception handlers raise to fail a call.

Handlers never build error responses themselves: they raise :class:`ApiFailure` and the
dispatcher turns it into the RPC's response type with that status, so every failure looks
the same on gRPC and on HTTP/JSON.
"""

from __future__ import annotations

import re

from google.protobuf.message import Message

from .._status import code_name
from ..proto.clarifai.api.status import status_code_pb2, status_pb2

SC = status_code_pb2.StatusCode

# Short descriptions as the service words them, for the codes the emulator returns; any other
# code gets its name in words.
_DESCRIPTIONS: dict[int, str] = {
    status_code_pb2.SUCCESS: "Ok",
    status_code_pb2.MIXED_STATUS: "Mixed Success",
    status_code_pb2.FAILURE: "Failure",
    status_code_pb2.TRY_AGAIN: "Try the request again",
    status_code_pb2.NOT_IMPLEMENTED: "Not implemented",
    status_code_pb2.CONN_THROTTLED: "Making too many requests",
    status_code_pb2.CONN_INSUFFICIENT_SCOPES: "API key has insufficient scopes",
    status_code_pb2.CONN_KEY_INVALID: "Invalid API key or Invalid API key/application pair",
    status_code_pb2.CONN_KEY_NOT_FOUND: "API key not found",
    status_code_pb2.CONN_BAD_REQUEST_FORMAT: "Bad request format",
    status_code_pb2.CONN_DOES_NOT_EXIST: "Resource does not exist",
    status_code_pb2.CONN_INVALID_REQUEST: "Invalid request",
    status_code_pb2.CONN_METHOD_NOT_ALLOWED: "Method not allowed",
    status_code_pb2.MODEL_TRAINED: "Model is trained and ready",
    status_code_pb2.MODEL_DOES_NOT_EXIST: "Model does not exist",
    status_code_pb2.MODEL_INVALID_ARGUMENT: "Invalid model argument",
    status_code_pb2.MODEL_PREDICTION_FAILED: "Model prediction failed",
    status_code_pb2.WORKFLOW_DUPLICATE: "Workflow with this id already exists",
    status_code_pb2.WORKFLOW_DOES_NOT_EXIST: "Workflow does not exist",
    status_code_pb2.WORKFLOW_INVALID_ARGUMENT: "Invalid workflow argument",
    status_code_pb2.WORKFLOW_INVALID_GRAPH: "Invalid workflow graph",
    status_code_pb2.ANNOTATION_SUCCESS: "Annotation success",
    status_code_pb2.ANNOTATION_INVALID_ARGUMENT: "Invalid annotation argument",
    status_code_pb2.INPUT_DOWNLOAD_SUCCESS: "Download complete",
    status_code_pb2.INPUT_DUPLICATE: "Input has a duplicate ID",
    status_code_pb2.INPUT_DOES_NOT_EXIST: "Input does not exist",
    status_code_pb2.INPUT_INVALID_ARGUMENT: "Invalid input argument",
    status_code_pb2.INPUT_OVER_LIMIT: "Too many inputs in one request",
    status_code_pb2.INPUT_UNSUPPORTED_FORMAT: "Input format not supported",
    status_code_pb2.INPUT_INVALID_URL: "Invalid URL",
    status_code_pb2.PREDICT_INVALID_REQUEST: "Invalid prediction request",
    status_code_pb2.SEARCH_INVALID_REQUEST: "Invalid search request",
    status_code_pb2.CONCEPTS_INVALID_REQUEST: "Invalid concepts request",
    status_code_pb2.DATABASE_DUPLICATE_KEY: "Object has a duplicate ID; another object with same ID already exist",
    status_code_pb2.RPC_SERVER_UNAVAILABLE: "Server unavailable",
    status_code_pb2.INTERNAL_SERVER_ISSUE: "Internal server issue",
}


def describe(code: int) -> str:
    """The short description of ``code``."""
    if code in _DESCRIPTIONS:
        return _DESCRIPTIONS[code]
    words = code_name(code).replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def make_status(code: int, details: str = "", *, description: str | None = None, req_id: str = "") -> status_pb2.Status:
    """A Status with ``code``, its description (or the one given), ``details`` and ``req_id``."""
    return status_pb2.Status(
        code=code,  # type: ignore[arg-type]
        description=describe(code) if description is None else description,
        details=details,
        req_id=req_id,
    )


def ok() -> status_pb2.Status:
    return make_status(status_code_pb2.SUCCESS)


class ApiFailure(Exception):
    """Raised by a handler to end its call with a failing status.

    ``partial`` is copied into the response before the status is set, e.g. the inputs of a
    refused batch with a status on each one. ``http_status`` overrides the HTTP status the
    gateway would derive from ``code``.
    """

    def __init__(self, code: int, details: str = "", *, description: str | None = None,
                 partial: Message | None = None, http_status: int | None = None) -> None:
        super().__init__(f"{code_name(code)}: {details}")
        self.code = code
        self.details = details
        self.description = description
        self.partial = partial
        self.http_status = http_status  # when the code's usual HTTP status is not the right one

    def status(self, req_id: str = "") -> status_pb2.Status:
        return make_status(self.code, self.details, description=self.description, req_id=req_id)


def _words(kind: str) -> list[str]:
    return [w.upper() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*", kind.rsplit(".", 1)[-1])]


def family_code(kind: str, suffixes: tuple[str, ...], fallback: int) -> int:
    """The code the service uses for ``kind``'s family: ``DATASET_VERSION_X``, else ``DATASET_X``, ..., else ``fallback``.

    ``kind`` is a message name (``clarifai.api.ArtifactVersion``); each suffix (``_DOES_NOT_EXIST``)
    is tried on the longest leading run of the name's words first.
    """
    words = _words(kind)
    for n in range(len(words), 0, -1):
        for suffix in suffixes:
            value = SC.DESCRIPTOR.values_by_name.get("_".join(words[:n]) + suffix)
            if value is not None:
                return int(value.number)
    return fallback


def missing_code(kind: str) -> int:
    """``*_DOES_NOT_EXIST`` of the kind's family (``CONN_DOES_NOT_EXIST`` when it has none)."""
    return family_code(kind, ("_DOES_NOT_EXIST",), status_code_pb2.CONN_DOES_NOT_EXIST)


def duplicate_code(kind: str) -> int:
    """``*_DUPLICATE`` of the kind's family (``DATABASE_DUPLICATE_KEY`` when it has none)."""
    return family_code(kind, ("_DUPLICATE",), status_code_pb2.DATABASE_DUPLICATE_KEY)


def invalid_code(kind: str) -> int:
    """``*_INVALID_ARGUMENT`` / ``*_INVALID_REQUEST`` of the kind's family (``CONN_INVALID_REQUEST`` otherwise)."""
    return family_code(kind, ("_INVALID_ARGUMENT", "_INVALID_REQUEST"), status_code_pb2.CONN_INVALID_REQUEST)
