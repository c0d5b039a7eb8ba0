"""The client of a worker process: built once there, rebuilt after a fork, never shared across one.

Engines run the work in long-lived worker processes (Ray actors, Spark's Python workers) and
ship the function to them once per task. :func:`worker_client` keeps one client per process and
per source key, so every task a worker runs reuses one channel instead of opening its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Union

from .._client import Client

#: Where a worker's client comes from: ``None`` (``Client()`` from the worker's ``CLARIFAI_*``
#: environment), a ``Client`` (its settings, pickled), or a function that builds one.
ClientSource = Union[Client, Callable[[], Client], None]

_lock = threading.Lock()
_clients: dict[str, tuple[int, Client]] = {}


def _after_fork() -> None:
    # A child must not use (or close) its parent's channels, nor wait on a lock the parent held.
    global _lock
    _lock = threading.Lock()
    _clients.clear()


os.register_at_fork(after_in_child=_after_fork)


def build_client(source: ClientSource) -> Client:
    """A client from ``source``; a ``Client`` is returned as it is."""
    if source is None:
        return Client()
    if isinstance(source, Client):
        return source
    client = source()
    if not isinstance(client, Client):
        raise TypeError(f"the client factory returned a {type(client).__name__}, not a Client")
    return client


def worker_client(source: ClientSource, key: str) -> Client:
    """This process's client for ``key``, built from ``source`` on first use (and again in a forked child)."""
    pid = os.getpid()
    with _lock:
        known = _clients.get(key)
        if known is not None and known[0] == pid:
            return known[1]
        client = build_client(source)
        _clients[key] = (pid, client)
        return client
