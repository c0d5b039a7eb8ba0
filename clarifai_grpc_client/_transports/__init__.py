"""Transports: each does one exchange of a given call shape and nothing more.

Four of them: gRPC sync (:class:`GrpcTransport`), gRPC ``asyncio`` (:class:`AioGrpcTransport`),
HTTP/JSON sync on urllib3 (:class:`HttpTransport`) and HTTP/JSON ``asyncio`` on aiohttp
(:class:`AsyncHttpTransport`).
The policy above them (:mod:`.._policy`) adds metadata, deadlines, retries and typed errors.
"""

from typing import TYPE_CHECKING, Any

from ._base import AsyncStream, AsyncTransport, IdleTimeout, SyncStream, SyncTransport
from .grpc_aio import AioGrpcTransport
from .grpc_sync import GrpcTransport

if TYPE_CHECKING:
    from .http_async import AsyncHttpTransport
    from .http_sync import HttpTransport

_LAZY = {"AsyncHttpTransport": "http_async", "HttpTransport": "http_sync"}


def __getattr__(name: str) -> Any:
    """The HTTP transports, imported on first use so that gRPC alone never loads the HTTP stack."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
