"""SQLite persistence for the emulator: resources as serialized protobuf plus the indexed columns queries need.

Every resource row holds the message's wire bytes (``blob``) and, beside it, what the emulator
filters or orders by: the app, the id, a creation sequence number (``seq``, AUTOINCREMENT so it
is never reused and later rows always sort after earlier ones), the status code, the metadata as
JSON, the embedding as packed float32, and the concept labels in their own indexed tables.

Concurrency: WAL mode, a small pool of connections, and one process-wide write lock. A write is
one ``BEGIN IMMEDIATE`` transaction (:meth:`Storage.write`): a handler that raises inside it
leaves nothing behind. A read (:meth:`Storage.read`) runs in one transaction too, so it sees a
single snapshot.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from ..proto.clarifai.api import apps_pb2, core_pb2
from ..proto.clarifai.api.concepts_pb2 import Concept
from .models import pack_vector, unpack_vector

SCHEMA_VERSION = 2
# Version 1 databases lack the generic ``resources`` table; creating it upgrades them in place.
_UPGRADABLE = (0, 1)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, id TEXT NOT NULL, blob BLOB NOT NULL,
    UNIQUE (user_id, id));
CREATE TABLE IF NOT EXISTS inputs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, id TEXT NOT NULL, status INTEGER NOT NULL,
    modified_ns INTEGER NOT NULL, metadata TEXT NOT NULL, embedding BLOB, blob BLOB NOT NULL,
    UNIQUE (app, id));
CREATE INDEX IF NOT EXISTS inputs_by_status ON inputs (app, status, seq);
CREATE INDEX IF NOT EXISTS inputs_by_id ON inputs (app, id);
CREATE INDEX IF NOT EXISTS inputs_by_seq ON inputs (app, seq);
CREATE TABLE IF NOT EXISTS input_tombstones (
    app TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (app, id));
CREATE TABLE IF NOT EXISTS input_concepts (
    app TEXT NOT NULL, input_id TEXT NOT NULL, concept_id TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (app, input_id, concept_id));
CREATE INDEX IF NOT EXISTS input_concepts_by_concept ON input_concepts (app, concept_id, value);
CREATE TABLE IF NOT EXISTS concepts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, id TEXT NOT NULL, blob BLOB NOT NULL,
    UNIQUE (app, id));
CREATE TABLE IF NOT EXISTS annotations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, id TEXT NOT NULL, input_id TEXT NOT NULL,
    status INTEGER NOT NULL, user_id TEXT NOT NULL, model_version_id TEXT NOT NULL, blob BLOB NOT NULL,
    UNIQUE (app, id));
CREATE INDEX IF NOT EXISTS annotations_by_input ON annotations (app, input_id);
CREATE TABLE IF NOT EXISTS annotation_concepts (
    app TEXT NOT NULL, annotation_id TEXT NOT NULL, input_id TEXT NOT NULL, concept_id TEXT NOT NULL,
    value REAL NOT NULL, PRIMARY KEY (app, annotation_id, concept_id));
CREATE INDEX IF NOT EXISTS annotation_concepts_by_concept ON annotation_concepts (app, concept_id, value);
CREATE TABLE IF NOT EXISTS workflows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, id TEXT NOT NULL, blob BLOB NOT NULL,
    UNIQUE (app, id));
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL,
    blob BLOB NOT NULL, UNIQUE (kind, scope, id));
CREATE INDEX IF NOT EXISTS resources_by_scope ON resources (kind, scope, seq);
"""


WORKFLOW_KIND = "clarifai.api.Workflow"
_APP_TABLES = ("inputs", "input_tombstones", "input_concepts", "concepts", "annotations", "annotation_concepts", "workflows")


def app_key(user_id: str, app_id: str) -> str:
    """The ``app`` column value of a user's app."""
    return f"{user_id}/{app_id}"


def _metadata_json(data: core_pb2.Data) -> str:
    return json.dumps(json_format.MessageToDict(data.metadata) if data.HasField("metadata") else {}, sort_keys=True)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


@dataclass(frozen=True)
class InputRow:
    """An input with its indexed columns decoded, for search."""

    input: core_pb2.Input
    seq: int
    status: int
    modified_ns: int
    metadata: Any
    embedding: list[float] | None


class Tx:
    """Operations inside one read or write transaction. Messages in, messages out."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def _blobs(self, sql: str, params: Sequence[Any]) -> list[bytes]:
        return [row[0] for row in self._c.execute(sql, params)]

    def _existing(self, table: str, app: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            found.update(r[0] for r in self._c.execute(
                f"SELECT id FROM {table} WHERE app = ? AND id IN ({_marks(chunk)})", [app, *chunk]))
        return found

    # --- apps ------------------------------------------------------------------------

    def get_app(self, user_id: str, app_id: str) -> apps_pb2.App | None:
        rows = self._blobs("SELECT blob FROM apps WHERE user_id = ? AND id = ?", (user_id, app_id))
        return apps_pb2.App.FromString(rows[0]) if rows else None

    def list_apps(self, user_id: str) -> list[apps_pb2.App]:
        return [apps_pb2.App.FromString(b) for b in self._blobs("SELECT blob FROM apps WHERE user_id = ? ORDER BY seq", (user_id,))]

    def insert_app(self, app: apps_pb2.App) -> None:
        self._c.execute("INSERT INTO apps (user_id, id, blob) VALUES (?, ?, ?)", (app.user_id, app.id, app.SerializeToString()))

    def update_app(self, app: apps_pb2.App, old_id: str | None = None) -> None:
        """Store ``app``; with ``old_id``, the app was renamed and everything it holds moves with it."""
        self._c.execute("UPDATE apps SET id = ?, blob = ? WHERE user_id = ? AND id = ?",
                        (app.id, app.SerializeToString(), app.user_id, old_id or app.id))
        if old_id and old_id != app.id:
            old, new = app_key(app.user_id, old_id), app_key(app.user_id, app.id)
            for table in _APP_TABLES:
                self._c.execute(f"UPDATE {table} SET app = ? WHERE app = ?", (new, old))
            self.res_rescope(old, new)

    def delete_app(self, user_id: str, app_id: str) -> None:
        """Delete the app and everything in it."""
        self._c.execute("DELETE FROM apps WHERE user_id = ? AND id = ?", (user_id, app_id))
        key = app_key(user_id, app_id)
        for table in _APP_TABLES:
            self._c.execute(f"DELETE FROM {table} WHERE app = ?", (key,))
        self.res_delete_under(key)

    # --- inputs ----------------------------------------------------------------------

    def existing_inputs(self, app: str, ids: Sequence[str]) -> set[str]:
        return self._existing("inputs", app, ids)

    def _index_input_concepts(self, app: str, inp: core_pb2.Input) -> None:
        self._c.execute("DELETE FROM input_concepts WHERE app = ? AND input_id = ?", (app, inp.id))
        self._c.executemany(
            "INSERT OR REPLACE INTO input_concepts (app, input_id, concept_id, value) VALUES (?, ?, ?, ?)",
            [(app, inp.id, c.id, c.value) for c in inp.data.concepts])

    def insert_input(self, app: str, inp: core_pb2.Input, embedding: Sequence[float] | None) -> None:
        self._c.execute(
            "INSERT INTO inputs (app, id, status, modified_ns, metadata, embedding, blob) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app, inp.id, inp.status.code, inp.modified_at.ToNanoseconds(), _metadata_json(inp.data),
             pack_vector(embedding) if embedding else None, inp.SerializeToString()))
        self._index_input_concepts(app, inp)

    def update_input(self, app: str, inp: core_pb2.Input) -> None:
        self._c.execute(
            "UPDATE inputs SET status = ?, modified_ns = ?, metadata = ?, blob = ? WHERE app = ? AND id = ?",
            (inp.status.code, inp.modified_at.ToNanoseconds(), _metadata_json(inp.data), inp.SerializeToString(), app, inp.id))
        self._index_input_concepts(app, inp)

    def get_inputs(self, app: str, ids: Sequence[str]) -> dict[str, core_pb2.Input]:
        out: dict[str, core_pb2.Input] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            for blob in self._blobs(f"SELECT blob FROM inputs WHERE app = ? AND id IN ({_marks(chunk)})", [app, *chunk]):
                inp = core_pb2.Input.FromString(blob)
                out[inp.id] = inp
        return out

    def get_input(self, app: str, input_id: str) -> core_pb2.Input | None:
        return self.get_inputs(app, [input_id]).get(input_id)

    def get_embedding(self, app: str, input_id: str) -> list[float] | None:
        row = self._c.execute("SELECT embedding FROM inputs WHERE app = ? AND id = ?", (app, input_id)).fetchone()
        return unpack_vector(row[0]) if row else None

    def delete_inputs(self, app: str, ids: Sequence[str]) -> None:
        """Delete the inputs, their annotations and labels; keep a tombstone for stream cursors."""
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            m = _marks(chunk)
            self._c.execute(
                f"INSERT OR REPLACE INTO input_tombstones (app, id, seq) SELECT app, id, seq FROM inputs WHERE app = ? AND id IN ({m})",
                [app, *chunk])
            for table in ("inputs",):
                self._c.execute(f"DELETE FROM {table} WHERE app = ? AND id IN ({m})", [app, *chunk])
            for table in ("input_concepts", "annotation_concepts", "annotations"):
                self._c.execute(f"DELETE FROM {table} WHERE app = ? AND input_id IN ({m})", [app, *chunk])

    def list_inputs(self, app: str, *, offset: int, limit: int, ids: Sequence[str] = (),
                    status: int | None = None) -> list[core_pb2.Input]:
        """Inputs newest first, optionally only the given ids and/or one status code."""
        sql, params = "SELECT blob FROM inputs WHERE app = ?", list[Any]([app])
        if ids:
            sql += f" AND id IN ({_marks(ids)})"
            params += list(ids)
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
        return [core_pb2.Input.FromString(b) for b in self._blobs(sql, [*params, limit, offset])]

    def _cursor_seq(self, app: str, last_id: str) -> int | None:
        for table in ("inputs", "input_tombstones"):
            row = self._c.execute(f"SELECT seq FROM {table} WHERE app = ? AND id = ?", (app, last_id)).fetchone()
            if row:
                return int(row[0])
        return None

    def stream_inputs(self, app: str, *, limit: int, last_id: str = "", descending: bool = False,
                      order_by_id: bool = False) -> list[core_pb2.Input] | None:
        """The next ``limit`` inputs after ``last_id`` (None when ``last_id`` was never an input)."""
        op, order = ("<", "DESC") if descending else (">", "ASC")
        sql, params = "SELECT blob FROM inputs WHERE app = ?", list[Any]([app])
        if order_by_id:
            if last_id:
                sql += f" AND id {op} ?"
                params.append(last_id)
            sql += f" ORDER BY id {order}"
        else:
            if last_id:
                seq = self._cursor_seq(app, last_id)
                if seq is None:
                    return None
                sql += f" AND seq {op} ?"
                params.append(seq)
            sql += f" ORDER BY seq {order}"
        sql += " LIMIT ?"
        return [core_pb2.Input.FromString(b) for b in self._blobs(sql, [*params, limit])]

    def count_inputs_by_status(self, app: str) -> dict[int, int]:
        return {int(s): int(n) for s, n in self._c.execute("SELECT status, COUNT(*) FROM inputs WHERE app = ? GROUP BY status", (app,))}

    def input_rows(self, app: str) -> list[InputRow]:
        rows = self._c.execute(
            "SELECT seq, status, modified_ns, metadata, embedding, blob FROM inputs WHERE app = ? ORDER BY seq DESC", (app,))
        return [InputRow(core_pb2.Input.FromString(blob), seq, status, mod, json.loads(meta), unpack_vector(emb))
                for seq, status, mod, meta, emb, blob in rows]

    def concept_labels(self, app: str) -> dict[str, dict[str, float]]:
        """Per input id: concept id -> strongest label value, over the input's own concepts and its annotations'."""
        labels: dict[str, dict[str, float]] = {}
        for input_id, concept_id, value in self._c.execute(
                "SELECT input_id, concept_id, value FROM input_concepts WHERE app = ? "
                "UNION ALL SELECT input_id, concept_id, value FROM annotation_concepts WHERE app = ?", (app, app)):
            per = labels.setdefault(input_id, {})
            per[concept_id] = max(per.get(concept_id, value), value)
        return labels

    # --- concepts --------------------------------------------------------------------

    def existing_concepts(self, app: str, ids: Sequence[str]) -> set[str]:
        return self._existing("concepts", app, ids)

    def insert_concept(self, app: str, concept: Concept) -> None:
        self._c.execute("INSERT INTO concepts (app, id, blob) VALUES (?, ?, ?)", (app, concept.id, concept.SerializeToString()))

    def update_concept(self, app: str, concept: Concept) -> None:
        self._c.execute("UPDATE concepts SET blob = ? WHERE app = ? AND id = ?", (concept.SerializeToString(), app, concept.id))

    def get_concepts(self, app: str, ids: Sequence[str]) -> dict[str, Concept]:
        out: dict[str, Concept] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            for blob in self._blobs(f"SELECT blob FROM concepts WHERE app = ? AND id IN ({_marks(chunk)})", [app, *chunk]):
                c = Concept.FromString(blob)
                out[c.id] = c
        return out

    def list_concepts(self, app: str, *, offset: int = 0, limit: int = -1, id_contains: str = "") -> list[Concept]:
        sql, params = "SELECT blob FROM concepts WHERE app = ?", [app]
        if id_contains:
            sql += " AND instr(lower(id), lower(?)) > 0"
            params.append(id_contains)
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        return [Concept.FromString(b) for b in self._blobs(sql, [*params, limit, offset])]

    # --- annotations -----------------------------------------------------------------

    def existing_annotations(self, app: str, ids: Sequence[str]) -> set[str]:
        return self._existing("annotations", app, ids)

    def _index_annotation_concepts(self, app: str, ann: core_pb2.Annotation) -> None:
        self._c.execute("DELETE FROM annotation_concepts WHERE app = ? AND annotation_id = ?", (app, ann.id))
        self._c.executemany(
            "INSERT OR REPLACE INTO annotation_concepts (app, annotation_id, input_id, concept_id, value) VALUES (?, ?, ?, ?, ?)",
            [(app, ann.id, ann.input_id, c.id, c.value) for c in ann.data.concepts])

    def insert_annotation(self, app: str, ann: core_pb2.Annotation) -> None:
        self._c.execute(
            "INSERT INTO annotations (app, id, input_id, status, user_id, model_version_id, blob) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app, ann.id, ann.input_id, ann.status.code, ann.user_id, ann.model_version_id, ann.SerializeToString()))
        self._index_annotation_concepts(app, ann)

    def update_annotation(self, app: str, ann: core_pb2.Annotation) -> None:
        self._c.execute("UPDATE annotations SET status = ?, blob = ? WHERE app = ? AND id = ?",
                        (ann.status.code, ann.SerializeToString(), app, ann.id))
        self._index_annotation_concepts(app, ann)

    def get_annotations(self, app: str, ids: Sequence[str]) -> dict[str, core_pb2.Annotation]:
        out: dict[str, core_pb2.Annotation] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            for blob in self._blobs(f"SELECT blob FROM annotations WHERE app = ? AND id IN ({_marks(chunk)})", [app, *chunk]):
                a = core_pb2.Annotation.FromString(blob)
                out[a.id] = a
        return out

    def list_annotations(self, app: str, *, offset: int = 0, limit: int = -1, ids: Sequence[str] = (),
                         input_ids: Sequence[str] = (), user_ids: Sequence[str] = (), statuses: Sequence[int] = (),
                         model_version_ids: Sequence[str] = ()) -> list[core_pb2.Annotation]:
        sql, params = "SELECT blob FROM annotations WHERE app = ?", list[Any]([app])
        filters: list[tuple[str, Sequence[Any]]] = [("id", ids), ("input_id", input_ids), ("user_id", user_ids), ("status", statuses),
                                                     ("model_version_id", model_version_ids)]
        for column, values in filters:
            if values:
                sql += f" AND {column} IN ({_marks(values)})"
                params += list(values)
        sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
        return [core_pb2.Annotation.FromString(b) for b in self._blobs(sql, [*params, limit, offset])]

    def delete_annotations(self, app: str, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            self._c.execute(f"DELETE FROM annotations WHERE app = ? AND id IN ({_marks(chunk)})", [app, *chunk])
            self._c.execute(f"DELETE FROM annotation_concepts WHERE app = ? AND annotation_id IN ({_marks(chunk)})", [app, *chunk])

    # --- workflows (kept as generic resources, so every workflow RPC sees the same rows) ----

    def existing_workflows(self, app: str, ids: Sequence[str]) -> set[str]:
        return self.res_existing(WORKFLOW_KIND, app, ids)

    def insert_workflow(self, app: str, wf: core_pb2.Workflow) -> None:
        self.res_insert(WORKFLOW_KIND, app, wf.id, wf.SerializeToString())

    def get_workflow(self, app: str, workflow_id: str) -> core_pb2.Workflow | None:
        blob = self.res_get(WORKFLOW_KIND, app, workflow_id)
        return core_pb2.Workflow.FromString(blob) if blob is not None else None

    def list_workflows(self, app: str, *, offset: int = 0, limit: int = -1, id_contains: str = "") -> list[core_pb2.Workflow]:
        found = [core_pb2.Workflow.FromString(b) for _, b in self.res_list(WORKFLOW_KIND, app)]
        if id_contains:
            found = [w for w in found if id_contains.lower() in w.id.lower()]
        return found[offset:] if limit < 0 else found[offset:offset + limit]

    def delete_workflows(self, app: str, ids: Iterable[str]) -> None:
        for wid in ids:
            self.res_delete(WORKFLOW_KIND, app, [wid])
            self.res_delete_under(f"{app}/workflows={wid}")

    # --- resources of any kind (the generic engine) ------------------------------------
    # ``kind`` is the message's full name, ``scope`` the owner and parents
    # (``user/app/datasets=ds1``), ``id`` the resource's id within that scope.

    def res_get(self, kind: str, scope: str, rid: str) -> bytes | None:
        row = self._c.execute("SELECT blob FROM resources WHERE kind = ? AND scope = ? AND id = ?", (kind, scope, rid)).fetchone()
        return bytes(row[0]) if row else None

    def res_existing(self, kind: str, scope: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            found.update(r[0] for r in self._c.execute(
                f"SELECT id FROM resources WHERE kind = ? AND scope = ? AND id IN ({_marks(chunk)})", [kind, scope, *chunk]))
        return found

    def res_list(self, kind: str, scope: str, *, offset: int = 0, limit: int = -1, ids: Sequence[str] = (),
                 newest_first: bool = True) -> list[tuple[str, bytes]]:
        """(id, blob) of the scope's resources of ``kind``, newest first unless asked otherwise."""
        sql, params = "SELECT id, blob FROM resources WHERE kind = ? AND scope = ?", list[Any]([kind, scope])
        if ids:
            sql += f" AND id IN ({_marks(ids)})"
            params += list(ids)
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?"
        return [(r[0], bytes(r[1])) for r in self._c.execute(sql, [*params, limit, offset])]

    def res_count(self, kind: str, scope: str) -> int:
        return int(self._c.execute("SELECT COUNT(*) FROM resources WHERE kind = ? AND scope = ?", (kind, scope)).fetchone()[0])

    def res_insert(self, kind: str, scope: str, rid: str, blob: bytes) -> None:
        self._c.execute("INSERT INTO resources (kind, scope, id, blob) VALUES (?, ?, ?, ?)", (kind, scope, rid, blob))

    def res_update(self, kind: str, scope: str, rid: str, blob: bytes, new_id: str | None = None) -> None:
        self._c.execute("UPDATE resources SET blob = ?, id = ? WHERE kind = ? AND scope = ? AND id = ?",
                        (blob, rid if new_id is None else new_id, kind, scope, rid))

    def res_delete(self, kind: str, scope: str, ids: Sequence[str]) -> None:
        """Delete the resources and everything scoped under them (a dataset's versions, ...)."""
        for rid in ids:
            self._c.execute("DELETE FROM resources WHERE kind = ? AND scope = ? AND id = ?", (kind, scope, rid))

    def res_delete_under(self, scope_prefix: str) -> None:
        """Delete every resource whose scope is ``scope_prefix`` or lies under it."""
        self._c.execute("DELETE FROM resources WHERE scope = ? OR substr(scope, 1, ?) = ?",
                        (scope_prefix, len(scope_prefix) + 1, scope_prefix + "/"))

    def res_rescope(self, old_prefix: str, new_prefix: str) -> None:
        """Move everything scoped under ``old_prefix`` to ``new_prefix`` (a renamed parent)."""
        self._c.execute("UPDATE resources SET scope = ? || substr(scope, ?) WHERE scope = ? OR substr(scope, 1, ?) = ?",
                        (new_prefix, len(old_prefix) + 1, old_prefix, len(old_prefix) + 1, old_prefix + "/"))

    def res_scopes(self, kind: str, scope_prefix: str) -> list[tuple[str, str, bytes]]:
        """(scope, id, blob) of every ``kind`` resource at or under ``scope_prefix``, in creation order."""
        return [(r[0], r[1], bytes(r[2])) for r in self._c.execute(
            "SELECT scope, id, blob FROM resources WHERE kind = ? AND (scope = ? OR substr(scope, 1, ?) = ?) ORDER BY seq",
            (kind, scope_prefix, len(scope_prefix) + 1, scope_prefix + "/"))]


_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes (the stubs do not declare the constants)


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the database stayed locked (by another process) past the busy timeout.

    Nothing was done then: a write transaction fails at its start, before any change.
    """
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class Storage:
    """One SQLite database file; thread-safe; :meth:`close` releases every connection."""

    def __init__(self, path: str, *, pool_size: int = 8, busy_timeout: float = 30.0) -> None:
        self.path = path
        self._pool_size = pool_size
        self.busy_timeout = busy_timeout  # seconds to wait for another process's lock before giving up
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        conn = self._acquire()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (*_UPGRADABLE, SCHEMA_VERSION):
                raise RuntimeError(f"{path} holds emulator schema version {version}; this emulator knows {SCHEMA_VERSION}")
            conn.executescript(_SCHEMA)
            if version == 1:  # workflows moved to the generic table
                conn.execute("INSERT OR IGNORE INTO resources (kind, scope, id, blob) "
                             "SELECT ?, app, id, blob FROM workflows ORDER BY seq", (WORKFLOW_KIND,))
                conn.execute("DELETE FROM workflows")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            self._release(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _acquire(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the emulator's storage is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._pool_lock:
            if len(self._all) < self._pool_size:
                conn = self._connect()
                self._all.append(conn)
                return conn
        return self._idle.get(timeout=60)

    def _release(self, conn: sqlite3.Connection) -> None:
        self._idle.put(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent snapshot."""
        conn = self._acquire()
        try:
            conn.execute("BEGIN")
            try:
                yield Tx(conn)
            finally:
                conn.execute("COMMIT")
        finally:
            self._release(conn)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: committed if the block returns, rolled back entirely if it raises."""
        with self._write_lock:
            conn = self._acquire()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._release(conn)

    def close(self) -> None:
        """Close every connection (idempotent)."""
        with self._pool_lock:
            if self._closed:
                return
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
