"""Identifiers and clock readings the emulator hands out: resource ids, request ids, timestamps.

Kept in one place so every resource gets ids of the same shape as the real API (32 hex digits)
and every ``created_at`` comes from the same clock.
"""

from __future__ import annotations

import re
import time
import uuid

from ..proto.well_known import Timestamp

# Ids a caller may choose: letters, digits and ``_ - .``; the path routes take them as one segment.
ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,128}\Z")


def new_id() -> str:
    """A fresh resource id (32 lowercase hex digits, like the ids the service generates)."""
    return uuid.uuid4().hex


def new_req_id() -> str:
    """A fresh request id for ``status.req_id``."""
    return uuid.uuid4().hex


def valid_id(value: str) -> bool:
    """Whether ``value`` is acceptable as a caller-chosen id."""
    return ID_PATTERN.match(value) is not None


def now_ns() -> int:
    """Wall-clock time in nanoseconds since the epoch."""
    return time.time_ns()


def timestamp(ns: int | None = None) -> Timestamp:
    """A ``google.protobuf.Timestamp`` for ``ns`` (default: now)."""
    ts = Timestamp()
    ts.FromNanoseconds(now_ns() if ns is None else ns)
    return ts
