"""Envelope encryption of blobs: AES-256-GCM in fixed-size chunks under a per-object data key.

A stored object is a header and then its chunks::

    magic (8) | version (1) | fixed length (u32) | fixed (JSON: chunk size, context)
              | slot length (u16) | key slot (JSON: KEK id, wrapped data key)
    chunk 0 | chunk 1 | ... | last chunk          (each: ciphertext + 16-byte tag)

The encryption context (``{"kind": "blob", "object": "<digest>"}``) names the object; the
wrapped data key opens only under it, so an object copied under another digest does not
open. Each chunk's nonce is its index (unique: a data key encrypts one object only), and
its associated data is the version, the SHA-256 of the fixed header, the index and a
last-chunk flag, so chunks cannot be reordered, dropped, truncated, extended or moved
between objects. The key slot is outside the chunks' associated data: rotating the KEK
rewrites it alone, never the chunks. Objects without the magic are plaintext (stored before
encryption, or with it off); a plaintext object that starts with the magic is stored behind
a version-0 header, so the two can never be confused.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.errors import IntegrityError, NotFound
from shipyard.store.blobs._kms import KeyProvider, WrappedKey

MAGIC = b"\x89SYENC\r\n"
PLAIN, SEALED = 0, 1
CHUNK_BYTES = 256 * 1024
TAG = 16
_PREFIX = struct.Struct("!8sBI")
PREFIX_BYTES = _PREFIX.size
_SLOT = struct.Struct("!H")
HEADER_MAX = PREFIX_BYTES + 4096 + _SLOT.size + 4096
_AAD = struct.Struct("!8sB32sQB")


def blob_context(digest: str) -> dict[str, str]:
    """The encryption context of the blob named ``digest``."""
    return {"kind": "blob", "object": digest}


@dataclass(frozen=True)
class Header:
    """A sealed object's header: the fixed part (bound into every chunk) and its key slot."""

    fixed: bytes
    chunk_bytes: int
    context: dict[str, str]
    wrapped: WrappedKey

    @property
    def fixed_digest(self) -> bytes:
        return hashlib.sha256(self.fixed).digest()

    def slot(self) -> bytes:
        body = json.dumps(
            {"kek": self.wrapped.key_id, "key": base64.b64encode(self.wrapped.blob).decode()},
            separators=(",", ":"),
        ).encode()
        return _SLOT.pack(len(body)) + body

    def encode(self) -> bytes:
        return self.fixed + self.slot()


def _fixed(chunk_bytes: int, context: Mapping[str, str]) -> bytes:
    body = json.dumps(
        {"chunk": chunk_bytes, "context": dict(context)}, sort_keys=True, separators=(",", ":")
    ).encode()
    return _PREFIX.pack(MAGIC, SEALED, len(body)) + body


def spool_header_for() -> Header:
    """The header of a spool sealed under a one-off key that never leaves memory."""
    context = {"kind": "spool", "object": ""}
    return Header(_fixed(CHUNK_BYTES, context), CHUNK_BYTES, context, WrappedKey("spool", b""))


def read_exact(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of ``source``."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def read_header(source: BinaryIO, prefix: bytes, digest: str) -> Header:
    """Parse the header after ``prefix`` (the magic, already read) of the blob ``digest``."""
    head = prefix + read_exact(source, _PREFIX.size - len(prefix))
    if len(head) < _PREFIX.size:
        raise _bad(digest, "its header is truncated")
    _magic, version, length = _PREFIX.unpack(head)
    if version != SEALED:
        raise _bad(digest, f"its format version {version} is unknown")
    if length > 4096:
        raise _bad(digest, "its header is too long")
    body = read_exact(source, length)
    slot_length = read_exact(source, _SLOT.size)
    if len(body) < length or len(slot_length) < _SLOT.size:
        raise _bad(digest, "its header is truncated")
    if _SLOT.unpack(slot_length)[0] > 4096:
        raise _bad(digest, "its key slot is too long")
    slot = read_exact(source, _SLOT.unpack(slot_length)[0])
    try:
        fixed = json.loads(body)
        keys = json.loads(slot)
        chunk_bytes, context = int(fixed["chunk"]), fixed["context"]
        wrapped = WrappedKey(str(keys["kek"]), base64.b64decode(keys["key"], validate=True))
        if not (isinstance(context, dict) and all(isinstance(v, str) for v in context.values())):
            raise TypeError("context")
    except (ValueError, KeyError, TypeError):
        raise _bad(digest, "its header is malformed") from None
    if not 1024 <= chunk_bytes <= 64 << 20:
        raise _bad(digest, f"its chunk size {chunk_bytes} is out of range")
    if context != blob_context(digest):
        raise IntegrityError(
            f"blob {digest} is corrupt: it holds the encrypted object "
            f"{context.get('object')!r} ({context.get('kind')!r}), copied or moved from another key"
        )
    return Header(head + body, chunk_bytes, context, wrapped)


def _bad(digest: str, problem: str) -> IntegrityError:
    return IntegrityError(f"blob {digest} is corrupt: encrypted, and {problem}")


def _aad(header: Header, index: int, last: bool) -> bytes:
    return _AAD.pack(MAGIC, SEALED, header.fixed_digest, index, last)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class Envelope:
    """Seals and opens objects with data keys from ``keys``; ``seal_writes`` off stores new
    objects in plaintext but still opens sealed ones."""

    def __init__(
        self, keys: KeyProvider, *, seal_writes: bool = True, chunk_bytes: int = CHUNK_BYTES
    ) -> None:
        self.keys = keys
        self.seal_writes = seal_writes
        self.chunk_bytes = chunk_bytes

    def new_header(self, digest: str) -> tuple[Header, bytes]:
        context = blob_context(digest)
        data_key, wrapped = self.keys.generate_data_key(context)
        return Header(_fixed(self.chunk_bytes, context), self.chunk_bytes, context, wrapped), (
            data_key
        )

    def seal(self, source: BinaryIO, digest: str) -> Iterator[bytes]:
        """The stored form of ``source``'s bytes as the blob ``digest``."""
        header, data_key = self.new_header(digest)
        return seal_chunks(source, header, data_key)

    def open(self, source: BinaryIO, prefix: bytes, digest: str) -> Iterator[bytes]:
        """The plaintext of a sealed object whose first bytes ``prefix`` were read."""
        header = read_header(source, prefix, digest)
        return open_chunks(source, header, self.data_key(header, digest), digest)

    def data_key(self, header: Header, digest: str) -> bytes:
        """The data key of the blob ``digest`` whose header is ``header``."""
        try:
            return self.keys.decrypt(header.wrapped, header.context)
        except NotFound as missing:  # a removed KEK, or a key id altered in the header
            raise _bad(digest, str(missing)) from None


def seal_chunks(source: BinaryIO, header: Header, data_key: bytes) -> Iterator[bytes]:
    """The header, then ``source`` encrypted chunk by chunk."""
    cipher = AESGCM(data_key)
    yield header.encode()
    index, chunk = 0, read_exact(source, header.chunk_bytes)
    while True:
        following = (
            read_exact(source, header.chunk_bytes) if len(chunk) == header.chunk_bytes else b""
        )
        last = not following
        yield cipher.encrypt(_nonce(index), chunk, _aad(header, index, last))
        if last:
            return
        index, chunk = index + 1, following


def open_chunks(source: BinaryIO, header: Header, data_key: bytes, digest: str) -> Iterator[bytes]:
    """The plaintext of the chunks that follow ``header`` in ``source``."""
    cipher, size = AESGCM(data_key), header.chunk_bytes + TAG
    index, chunk = 0, read_exact(source, size)
    while True:
        following = read_exact(source, size) if len(chunk) == size else b""
        last = not following
        try:
            yield cipher.decrypt(_nonce(index), chunk, _aad(header, index, last))
        except InvalidTag:
            raise _bad(
                digest, f"its chunk {index} was altered, moved, dropped or truncated"
            ) from None
        if last:
            return
        index, chunk = index + 1, following


def sealed_size(stored: int, header_bytes: int, chunk_bytes: int) -> int:
    """The plaintext size of a sealed object of ``stored`` bytes."""
    body = stored - header_bytes
    chunks = max(1, -(-body // (chunk_bytes + TAG)))
    return body - chunks * TAG


def escape_plain(first: bytes) -> bytes:
    """What goes before a plaintext object that starts with ``first`` (its opening bytes)."""
    return _PREFIX.pack(MAGIC, PLAIN, 0) if first.startswith(MAGIC) else b""


def chunk_reader(pieces: Iterator[bytes]) -> BinaryIO:
    """A readable file of the concatenated ``pieces``."""
    return cast(BinaryIO, ChunkReader(pieces))


class ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte strings."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._buffer = memoryview(piece)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size
