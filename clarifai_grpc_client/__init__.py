"""A gRPC-first client for the Clarifai V2 API.

The generated messages and the ``V2Stub`` are in :mod:`clarifai_grpc_client.proto`; this
package adds the channel manager (gRPC and HTTPS+JSON, sync and ``asyncio``), retries,
deadlines, typed errors and the ``Client``/``AsyncClient`` objects.
"""

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
    MethodNotImplemented,
    MixedStatus,
    NotFound,
    PermissionDenied,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    TranscodingError,
    TransportError,
    Unauthenticated,
)
from ._grpc_channel import create_aio_grpc_channel, create_grpc_channel
from ._input_ids import derive_input_id, random_input_id
from ._json_channel import AsyncJsonChannel, JsonChannel
from ._retry import NO_RETRY, RetryPolicy
from ._streaming import AsyncInputStream, InputStream
from ._upload import InputLimitError, ItemFailure, UploadReport
from ._version import __version__

__all__ = [
    "AlreadyExists",
    "ApiError",
    "AsyncClient",
    "AsyncInputStream",
    "AsyncJsonChannel",
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
    "MethodNotImplemented",
    "MixedStatus",
    "NO_RETRY",
    "NotFound",
    "PermissionDenied",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
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
