"""Chunks scored as tasks on the job's Ray executor, waited on by the job process.

Each chunk is submitted as one task (``_chunk_task``) naming its input file, row group
and position; the job process never reads the input rows. A thread per chunk in flight
waits for its task and reads the stored output back (its digest checked), so the runner
records and writes chunks in order exactly as it does for local scoring.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from shipyard.batch._chunk_task import ENTRY
from shipyard.batch._scorers import Scored
from shipyard.batch._scoring import decode_chunk
from shipyard.jobs._remote import RemoteWork
from shipyard.store.blobs import BlobStore


class RemoteChunks:
    """Up to ``slots`` chunks at a time as tasks on ``remote`` (twice that in flight)."""

    def __init__(
        self,
        remote: RemoteWork,
        blobs: BlobStore,
        slots: int,
        chunks: list[tuple[int, int, int]],
        files: list[str],
        common: dict[str, Any],
    ) -> None:
        self.slots = slots
        self._remote, self._blobs, self._common = remote, blobs, common
        self._chunks, self._files = chunks, files
        self._positions: list[int] = []
        seen: dict[tuple[int, int], int] = {}
        for number, group, _ in chunks:
            self._positions.append(seen.get((number, group), 0))
            seen[(number, group)] = self._positions[-1] + 1
        self._waiting = ThreadPoolExecutor(2 * slots + 1, thread_name_prefix="chunk-task")

    def submit(self, index: int) -> Future[Scored]:
        number, group, rows = self._chunks[index]
        payload = {
            **self._common,
            "file": self._files[number],
            "group": group,
            "position": self._positions[index],
            "rows": rows,
        }
        handle = self._remote.submit(ENTRY, payload, cpus=1.0)
        return self._waiting.submit(self._collect, handle)

    def _collect(self, handle: Any) -> Scored:
        digest: str = self._remote.wait(handle)["digest"]
        return digest, decode_chunk(self._blobs.get_bytes(digest))

    def describe(self) -> str:
        return f"{self._remote.tasks} task(s) on {self._remote.name}, {self.slots} at a time"

    def close(self) -> None:
        self._remote.cancel_all()
        self._waiting.shutdown(wait=True, cancel_futures=True)
