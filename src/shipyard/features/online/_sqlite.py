"""The default online store: one SQLite file (WAL) under the Shipyard home, apart from metadata.

A separate file keeps the serving hot path off the metadata database (which may be
PostgreSQL) and lets materialization write without holding metadata locks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import orjson

from shipyard.errors import StorageError
from shipyard.features.online._base import OnlineBatch, OnlineRecord, OnlineStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_features (
    view TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (view, entity_key)
) WITHOUT ROWID
"""
_UPSERT = """
INSERT INTO online_features (view, entity_key, event_time, payload) VALUES (?, ?, ?, ?)
ON CONFLICT (view, entity_key) DO UPDATE
SET event_time = excluded.event_time, payload = excluded.payload
WHERE excluded.event_time >= online_features.event_time
"""
_CHUNK = 50_000
_READ_CHUNK = 900


class SqliteOnlineStore(OnlineStore):
    """Online features in a SQLite file; one connection per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as connection:
                connection.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"online store {self.path} failed: {error}") from None

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def write(self, view: str, batch: OnlineBatch) -> int:
        connection = self._connection()
        try:
            for start in range(0, len(batch), _CHUNK):
                stop = start + _CHUNK
                rows = zip(
                    [view] * len(batch.keys[start:stop]),
                    batch.keys[start:stop],
                    batch.event_times_us[start:stop],
                    batch.payloads[start:stop],
                    strict=True,
                )
                with connection:
                    connection.executemany(_UPSERT, rows)
        except sqlite3.Error as error:
            raise StorageError(f"online store {self.path} failed: {error}") from None
        return len(batch)

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[OnlineRecord | None]]:
        connection = self._connection()
        results: list[list[OnlineRecord | None]] = []
        try:
            for view, keys in requests:
                found: dict[str, OnlineRecord] = {}
                unique = list(dict.fromkeys(keys))
                for start in range(0, len(unique), _READ_CHUNK):
                    chunk = unique[start : start + _READ_CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    cursor = connection.execute(
                        "SELECT entity_key, event_time, payload FROM online_features "
                        f"WHERE view = ? AND entity_key IN ({marks})",
                        [view, *chunk],
                    )
                    for key, event_time, payload in cursor:
                        found[key] = OnlineRecord(event_time, orjson.loads(payload))
                results.append([found.get(key) for key in keys])
        except sqlite3.Error as error:
            raise StorageError(f"online store {self.path} failed: {error}") from None
        return results

    def delete_view(self, view: str) -> int:
        connection = self._connection()
        try:
            with connection:
                cursor = connection.execute("DELETE FROM online_features WHERE view = ?", [view])
        except sqlite3.Error as error:
            raise StorageError(f"online store {self.path} failed: {error}") from None
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
