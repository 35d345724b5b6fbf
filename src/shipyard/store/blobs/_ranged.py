"""A seekable reader of a sealed object's plaintext that decrypts only the chunks it reads.

Readers of columnar files (Parquet through pyarrow) read a footer and then the column
chunks they need; decrypting the whole object first (to a scratch copy) made an encrypted
dataset read cost twice a plaintext one. Here each read fetches just the stored chunks
covering the range, each still authenticated by its tag under associated data that binds
its index, whether it is the last, and the fixed header (itself bound to the object's
digest through the data key's encryption context, checked when the header is read). So a
byte flipped in any chunk read fails the read, a chunk moved or swapped fails at its new
place, and a truncated or extended object fails at its new last chunk (a ranged reader
finds the last chunk from the stored size, where Parquet's footer lives).
"""

from __future__ import annotations

import io
import threading
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.store.blobs._crypto import TAG, Header, _aad, _bad, _nonce, read_exact


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed object in the seekable ``source`` (its stored form, of
    ``stored`` bytes), whose header is ``header`` and data key ``data_key``."""

    def __init__(
        self, source: BinaryIO, header: Header, data_key: bytes, stored: int, digest: str
    ) -> None:
        self._source = source
        self._header = header
        self._cipher = AESGCM(data_key)
        self._digest = digest
        self._start = len(header.encode())
        self._stored_chunk = header.chunk_bytes + TAG
        body = stored - self._start
        self._chunks = max(1, -(-body // self._stored_chunk))
        last = body - (self._chunks - 1) * self._stored_chunk
        if not TAG <= last <= self._stored_chunk:
            raise _bad(digest, "its chunks are truncated")
        self.length = body - self._chunks * TAG
        self._position = 0
        self._cached: tuple[int, bytes] = (-1, b"")
        self._lock = threading.Lock()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def size(self) -> int:
        return self.length

    def _chunk(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        self._source.seek(self._start + index * self._stored_chunk)
        stored = read_exact(self._source, self._stored_chunk)
        last = index == self._chunks - 1
        try:
            plain = self._cipher.decrypt(_nonce(index), stored, _aad(self._header, index, last))
        except InvalidTag:
            raise _bad(
                self._digest, f"its chunk {index} was altered, moved, dropped or truncated"
            ) from None
        self._cached = (index, plain)
        return plain

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` plaintext bytes from ``offset`` (fewer only at the end)."""
        end = min(offset + size, self.length)
        if offset >= end:
            return b""
        chunk_bytes = self._header.chunk_bytes
        parts = []
        with self._lock:
            for index in range(offset // chunk_bytes, (end - 1) // chunk_bytes + 1):
                plain = self._chunk(index)
                base = index * chunk_bytes
                parts.append(plain[max(offset - base, 0) : end - base])
        return b"".join(parts)

    def read(self, size: int | None = -1) -> bytes:
        wanted = self.length - self._position if size is None or size < 0 else size
        data = self.read_at(self._position, wanted)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def check_last_chunk(self) -> None:
        """Open the last chunk: a truncated or extended object fails here, before any use."""
        with self._lock:
            self._chunk(self._chunks - 1)

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()
