"""Transports: each does one exchange of a given call shape and nothing more.

Four of them: gRPC sync (:class:`GrpcTransport`), gRPC ``asyncio`` (:class:`AioGrpcTransport`),
HTTP/JSON sync (:class:`HttpTransport`) and HTTP/JSON ``asyncio`` (:class:`AsyncHttpTransport`).
The policy above them (:mod:`.._policy`) adds metadata, deadlines, retries and typed errors.
"""

from ._base import AsyncStream, AsyncTransport, IdleTimeout, SyncStream, SyncTransport
from .grpc_aio import AioGrpcTransport
from .grpc_sync import GrpcTransport
from .http_async import AsyncHttpTransport
from .http_sync import HttpTransport

__all__ = [
    "AioGrpcTransport",
    "AsyncHttpTransport",
    "AsyncStream",
    "AsyncTransport",
    "GrpcTransport",
    "HttpTransport",
    "IdleTimeout",
    "SyncStream",
    "SyncTransport",
]
