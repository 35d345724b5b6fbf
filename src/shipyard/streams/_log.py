"""The embedded broker of ``http`` streams: accepted records wait in a metadata table.

With no Redis or NATS configured, the ingest endpoint appends to this log and a
consumer reads it like any broker: entries are deleted (acknowledged) only after
their records are committed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa

from shipyard.store.metadata import Database
from shipyard.store.metadata import stream_tables as st
from shipyard.streams._source import Message, StreamProducer, StreamSource

_IDLE_WAIT = 0.05
_DELETE_CHUNK = 1_000


class DatabaseLogSource(StreamSource):
    """Reads the log of one stream in entry order."""

    def __init__(self, db: Database, stream_id: int, name: str) -> None:
        self._db, self._stream_id, self._name = db, stream_id, name
        self._cursor = 0

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            with self._db.session() as session:
                rows = session.execute(
                    sa.select(st.StreamLogEntry.id, st.StreamLogEntry.key, st.StreamLogEntry.value)
                    .where(
                        st.StreamLogEntry.stream_id == self._stream_id,
                        st.StreamLogEntry.id > self._cursor,
                    )
                    .order_by(st.StreamLogEntry.id)
                    .limit(max_messages)
                ).all()
            if rows:
                self._cursor = rows[-1].id
                return [Message(str(r.id), self._name, r.key, bytes(r.value)) for r in rows]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            time.sleep(min(_IDLE_WAIT, left))

    def commit(self, messages: Sequence[Message]) -> None:
        ids = [int(m.offset) for m in messages]
        with self._db.session() as session:
            for start in range(0, len(ids), _DELETE_CHUNK):
                session.execute(
                    sa.delete(st.StreamLogEntry).where(
                        st.StreamLogEntry.id.in_(ids[start : start + _DELETE_CHUNK])
                    )
                )
        # Entries whose transactions committed out of id order sit below the cursor.
        self._cursor = 0

    def close(self) -> None:
        """Nothing to release: the log lives in the metadata database."""


class DatabaseLogProducer(StreamProducer):
    """Appends to the log of one stream in one transaction."""

    def __init__(self, db: Database, stream_id: int) -> None:
        self._db, self._stream_id = db, stream_id

    def publish(self, records: Sequence[tuple[str | None, bytes]]) -> list[str]:
        with self._db.session() as session:
            entries = [
                st.StreamLogEntry(stream_id=self._stream_id, key=key, value=value)
                for key, value in records
            ]
            session.add_all(entries)
            session.flush()
            return [str(e.id) for e in entries]

    def close(self) -> None:
        """Nothing to release."""
