"""The :class:`Emulator`: one process serving V2 over gRPC and HTTP/JSON from one SQLite database.

Lifecycle: :meth:`Emulator.start` opens the database (a given file, or a temporary one),
creates each key user's default app, and starts the gRPC server (thread pool, 1 GiB message
limits, reflection, health) and the HTTP gateway on loopback ports (0 = free ports).
:meth:`Emulator.stop` marks health NOT_SERVING, stops both servers, joins their threads, closes
the database and removes a temporary one. :meth:`Emulator.restart` does both on the same
database and, when they are still free, the same ports.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent import futures
from types import TracebackType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from .. import _pool
from ..proto import add_V2Servicer_to_server
from .auth import KeyRing
from .dispatch import V2, Dispatcher
from .faults import Faults
from .gateway import Gateway
from .rpc_apps import ensure_default_apps
from . import rpc_streams  # noqa: F401  (registers the streaming handlers over stored state)
from .servicer import EmulatorServicer
from .storage import Storage

log = logging.getLogger("clarifai_grpc_client.emulator")

MAX_MESSAGE = 2**30 - 1
GRPC_WORKERS = 256  # each open stream holds a worker for its whole life; threads start only when needed


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Emulator:
    """A local Clarifai V2 service. Use as a context manager, or call start() and stop()."""

    def __init__(self, db_path: str | os.PathLike[str] | None = None,
                 keys: Sequence[str] | Mapping[str, str] = ("demo-key",), host: str = "127.0.0.1",
                 grpc_port: int = 0, http_port: int = 0, faults: Faults | None = None, busy_timeout: float = 30.0) -> None:
        self._keys = KeyRing(keys)
        self._busy_timeout = busy_timeout  # how long a call waits for a database another process holds locked
        self.host = host
        self.faults = faults if faults is not None else Faults()
        self._db_path = os.fspath(db_path) if db_path is not None else None
        self._temp_dir: str | None = None
        self._want_grpc_port, self._want_http_port = grpc_port, http_port
        self._grpc_port = self._http_port = 0
        self._storage: Storage | None = None
        self._grpc: grpc.Server | None = None
        self._executor: futures.ThreadPoolExecutor | None = None
        self._health: health.HealthServicer | None = None
        self._gateway: Gateway | None = None
        self._lock = threading.Lock()
        if not is_loopback(host):
            log.warning("the Clarifai emulator listens on %s, which is not a loopback address: anyone who can reach "
                        "it and knows a key can use it, in plaintext", host)

    # --- addresses -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._grpc is not None

    def _hostport(self, port: int) -> str:
        return f"[{self.host}]:{port}" if ":" in self.host else f"{self.host}:{port}"

    @property
    def grpc_port(self) -> int:
        return self._grpc_port

    @property
    def http_port(self) -> int:
        return self._http_port

    @property
    def grpc_target(self) -> str:
        """``host:port`` for ``grpc.insecure_channel``."""
        return self._hostport(self._grpc_port)

    @property
    def http_base(self) -> str:
        """``http://host:port``: the base of the JSON routes (``/v2/...``)."""
        return "http://" + self._hostport(self._http_port)

    @property
    def db_path(self) -> str | None:
        """The database file in use (a temporary one while running without ``db_path``)."""
        return self._db_path or (os.path.join(self._temp_dir, "emulator.sqlite3") if self._temp_dir else None)

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            raise RuntimeError("the emulator is not running")
        return self._storage

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> Emulator:
        """Open the database and start both servers; returns self."""
        with self._lock:
            if self._grpc is not None:
                raise RuntimeError("the emulator is already running")
            if self._db_path is None and self._temp_dir is None:
                self._temp_dir = tempfile.mkdtemp(prefix="clarifai-emulator-")
            path = self.db_path
            assert path is not None
            storage = Storage(path, busy_timeout=self._busy_timeout)
            try:
                ensure_default_apps(storage, self._keys.users)
                dispatcher = Dispatcher(storage, self._keys, self.faults)
                self._start_grpc(dispatcher)
                try:
                    self._gateway = self._bind_gateway(dispatcher)
                except BaseException:
                    self._stop_grpc()
                    raise
            except BaseException:
                storage.close()
                raise
            self._storage = storage
            self._gateway.start()
            log.info("Clarifai emulator serving gRPC on %s and HTTP on %s (database %s)", self.grpc_target, self.http_base,
                     "temporary" if self._temp_dir else path)
            return self

    def _start_grpc(self, dispatcher: Dispatcher) -> None:
        executor = futures.ThreadPoolExecutor(max_workers=GRPC_WORKERS, thread_name_prefix="emulator-grpc")
        server = grpc.server(executor, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ])
        # The stub declares every V2 method abstract; EmulatorServicer binds them all at run time.
        servicer = EmulatorServicer(dispatcher)  # type: ignore[abstract]
        add_V2Servicer_to_server(servicer, server)
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        names = (V2.full_name, health.SERVICE_NAME, reflection.SERVICE_NAME)
        # Our types may live in a pool of their own (clarifai_grpc_client._pool); reflection
        # answers from that pool, which then also needs the health and reflection files.
        _pool.include_default_files(health_pb2.DESCRIPTOR.name, reflection_pb2.DESCRIPTOR.name)
        reflection.enable_server_reflection(names, server, pool=_pool.pool())
        port = self._bind_grpc(server)
        if not port:
            executor.shutdown(wait=False)
            raise RuntimeError(f"cannot listen for gRPC on {self._hostport(self._want_grpc_port)}")
        server.start()
        for name in ("", V2.full_name):
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._grpc, self._executor, self._health, self._grpc_port = server, executor, health_servicer, port

    @staticmethod
    def _ports_to_try(previous: int, wanted: int) -> list[int]:
        """The asked-for port on a first start; on a restart the previous one, else any free one."""
        return [previous, 0] if previous else [wanted]

    def _bind_grpc(self, server: grpc.Server) -> int:
        for port in self._ports_to_try(self._grpc_port, self._want_grpc_port):
            try:
                bound = server.add_insecure_port(self._hostport(port))
            except RuntimeError:
                bound = 0
            if bound:
                return bound
        return 0

    def _bind_gateway(self, dispatcher: Dispatcher) -> Gateway:
        last: OSError | None = None
        for port in self._ports_to_try(self._http_port, self._want_http_port):
            try:
                gateway = Gateway(dispatcher, self.host, port)
            except OSError as exc:
                last = exc
                continue
            self._http_port = gateway.port
            return gateway
        assert last is not None
        raise last

    def _stop_grpc(self) -> None:
        if self._health is not None:
            self._health.enter_graceful_shutdown()
        if self._grpc is not None:
            self._grpc.stop(grace=1.0).wait()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._grpc = self._executor = self._health = None

    def stop(self, *, keep_database: bool = False) -> None:
        """Stop both servers, join their threads, close the database (idempotent).

        A temporary database is deleted unless ``keep_database`` (used by :meth:`restart`).
        """
        with self._lock:
            self._stop_grpc()
            if self._gateway is not None:
                self._gateway.stop()
                self._gateway = None
            if self._storage is not None:
                self._storage.close()
                self._storage = None
            if self._temp_dir is not None and not keep_database:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None

    def restart(self) -> Emulator:
        """Stop and start again on the same database, on the same ports when they are free."""
        self.stop(keep_database=True)
        return self.start()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"grpc={self.grpc_target} http={self.http_base}" if self.running else "stopped"
        return f"<Emulator {state} keys={self._keys!r}>"
