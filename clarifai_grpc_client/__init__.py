"""A gRPC-first client for the Clarifai V2 API.

The generated messages and the ``V2Stub`` are in :mod:`clarifai_grpc_client.proto`; this
package adds the channels (gRPC and HTTPS+JSON, sync and ``asyncio``), one call policy for
every call shape (retries, deadlines, typed errors), and the typed ``Client``/``AsyncClient``.
"""

import os as _os
import sys as _sys
import typing as _typing

from ._quiet_grpc import quiet_for_command_line as _quiet_for_command_line

_quiet_for_command_line(_sys.argv, _os.environ, getattr(_sys, "orig_argv", ()))  # before anything imports grpc

from ._calls import Method, Routing
from ._client import AsyncClient, Client, open_async_channel, open_channel
from ._config import (
    CallEvent,
    ChannelConfig,
    Credentials,
    Target,
    build_config,
    parse_base,
)
from ._errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    Cancelled,
    ClarifaiError,
    ClientError,
    ConfigurationError,
    DeadlineExceeded,
    InternalServerError,
    InvalidResponse,
    MessageTooLarge,
    MethodNotImplemented,
    MixedStatus,
    NotFound,
    PermissionDenied,
    RequestTypeError,
    ServerError,
    ServiceUnavailable,
    StreamingNotSupported,
    StreamInterrupted,
    TooManyRequests,
    TranscodingError,
    TransportError,
    Unauthenticated,
)
from ._grpc_channel import create_aio_grpc_channel, create_grpc_channel
from ._input_ids import derive_input_id, random_input_id
from ._policy import AsyncResponseStream, ResponseStream
from ._retry import NO_RETRY, RetryPolicy
from ._streaming import AsyncInputStream, InputStream
from ._upload import InputLimitError, ItemFailure, UploadReport
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._json_channel import AsyncJsonChannel, JsonChannel


def __getattr__(name: str) -> _typing.Any:
    """The JSON channels, imported on first use: gRPC alone never loads the HTTP stack."""
    if name in ("JsonChannel", "AsyncJsonChannel"):
        from . import _json_channel

        return getattr(_json_channel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AlreadyExists",
    "ApiError",
    "AsyncClient",
    "AsyncInputStream",
    "AsyncJsonChannel",
    "AsyncResponseStream",
    "BadRequest",
    "CallEvent",
    "Cancelled",
    "ChannelConfig",
    "ClarifaiError",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Credentials",
    "DeadlineExceeded",
    "InputLimitError",
    "InputStream",
    "InternalServerError",
    "InvalidResponse",
    "ItemFailure",
    "JsonChannel",
    "MessageTooLarge",
    "Method",
    "MethodNotImplemented",
    "MixedStatus",
    "NO_RETRY",
    "NotFound",
    "PermissionDenied",
    "RequestTypeError",
    "ResponseStream",
    "RetryPolicy",
    "Routing",
    "ServerError",
    "ServiceUnavailable",
    "StreamInterrupted",
    "StreamingNotSupported",
    "Target",
    "TooManyRequests",
    "TranscodingError",
    "TransportError",
    "Unauthenticated",
    "UploadReport",
    "__version__",
    "build_config",
    "create_aio_grpc_channel",
    "create_grpc_channel",
    "derive_input_id",
    "open_async_channel",
    "open_channel",
    "parse_base",
    "random_input_id",
]
