"""The blob store interface: immutable bytes named by their SHA-256 digest."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import os
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from shipyard.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    ShipyardError,
    StorageError,
)
from shipyard.store.blobs._crypto import (
    HEADER_MAX,
    MAGIC,
    PLAIN,
    PREFIX_BYTES,
    Envelope,
    chunk_reader,
    escape_plain,
    open_chunks,
    read_exact,
    read_header,
    seal_chunks,
    sealed_size,
    spool_header_for,
)
from shipyard.store.blobs._files import (
    CHUNK,
    HashingReader,
    copy_to_temp,
    hash_stream,
    replace_durably,
)
from shipyard.store.blobs._ranged import SealedReader

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def compute_digest(data: bytes) -> str:
    """The digest ``"sha256:<hex>"`` that names ``data`` in a blob store."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def validate_digest(digest: object) -> str:
    """Return ``digest`` if it is a well-formed ``"sha256:<64 lowercase hex>"`` string."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidInput(
            f"expected 'sha256:' and 64 lowercase hex digits, got {digest!r:.80}", field="digest"
        )
    return digest


def blob_key(digest: str) -> str:
    """The key of a blob below the store root: ``sha256/ab/cd/<hex>``."""
    hex_ = validate_digest(digest).removeprefix("sha256:")
    return f"sha256/{hex_[:2]}/{hex_[2:4]}/{hex_}"


class BlobStore(ABC):
    """Content-addressed, write-once storage; every read is checked against its digest.

    Subclasses provide the storage primitives; this class validates digests, verifies
    content, seals and opens objects (``envelope``, see ``_crypto``) and translates backend
    errors into ``shipyard.errors`` in one place. Without an envelope, or with its
    ``seal_writes`` off, new objects are stored in plaintext; plaintext objects stay
    readable either way, told apart from sealed ones by the header's magic.
    """

    backend_errors: tuple[type[BaseException], ...] = ()
    envelope: Envelope | None = None

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the store lives, as a URL (``file:///...``, ``s3://bucket/prefix``)."""

    def _sealing(self) -> Envelope | None:
        envelope = self.envelope
        return envelope if envelope is not None and envelope.seal_writes else None

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its digest; storing known content is a no-op."""
        digest = compute_digest(data)
        key = blob_key(digest)
        with self._translated(None):
            if not self._exists(key):
                sealing = self._sealing()
                if sealing is not None:
                    stored = b"".join(sealing.seal(io.BytesIO(data), digest))
                else:
                    stored = escape_plain(data[: len(MAGIC)]) + data
                self._write_bytes(key, stored)
        return digest

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store the file at ``path`` in constant memory and return its digest."""
        try:
            source = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InvalidInput(
                f"cannot read {os.fspath(path)!r}: {exc.strerror}", field="path"
            ) from exc
        with source, self._translated(None):
            first = read_exact(source, len(MAGIC))
            whole = chunk_reader(itertools.chain([first], iter(lambda: source.read(CHUNK), b"")))
            if self._sealing() is None and not first.startswith(MAGIC):
                return self._put_file(whole, Path(path))
            digest = hash_stream(whole)
            key = blob_key(digest)
            if not self._exists(key):
                with open(path, "rb") as again:
                    self._store_checked(key, again, digest)
            return digest

    def _store_checked(self, key: str, source: BinaryIO, digest: str) -> None:
        """Store ``source``, which should hash to ``digest``; Conflict (and nothing stored)
        when what was read does not."""
        hashing = HashingReader(source)

        def check() -> None:
            if hashing.digest() != digest:
                raise Conflict("the file changed while it was being stored", field="path")

        self._write_stream(key, self._stored_form(hashing.reader(), digest), check)

    def _stored_form(self, source: BinaryIO, digest: str) -> BinaryIO:
        """What is stored for the plaintext ``source`` of the blob ``digest``."""
        sealing = self._sealing()
        if sealing is not None:
            return chunk_reader(sealing.seal(source, digest))
        first = read_exact(source, len(MAGIC))
        rest = iter(lambda: source.read(CHUNK), b"")
        return chunk_reader(itertools.chain([escape_plain(first), first], rest))

    def adopt_file(self, path: str | os.PathLike[str], digest: str) -> str:
        """Store the file at ``path``, whose bytes the caller hashed to ``digest``, consuming it.

        For files the caller wrote itself and hashed as it wrote them (a staged dataset
        file), so the store need not read them again: a local store renames the file into
        place when it is on the same filesystem (else copies it), an object store uploads it
        and checks the digest on the way. Known content is not stored again. The file is gone
        afterwards either way; reads still verify every blob against its digest. A sealing
        store encrypts it on the way instead (the staged plaintext is then removed).
        """
        key = blob_key(digest)
        source = Path(path)
        with self._translated(None):
            if not self._exists(key):
                with source.open("rb") as staged:
                    plain = self._sealing() is None and not read_exact(
                        staged, len(MAGIC)
                    ).startswith(MAGIC)
                    if not plain:
                        staged.seek(0)
                        self._write_stream(key, self._stored_form(staged, digest))
                if plain and not self._adopt(source, key):
                    stored = self.put_file(source)
                    if stored != digest:
                        raise _corrupt(digest, stored)
            source.unlink(missing_ok=True)
        return digest

    def put_stream(self, stream: BinaryIO) -> str:
        """Store everything read from ``stream`` and return its digest.

        A sealing store needs the digest (the object's identity) before it encrypts, so it
        first spools the stream encrypted under a one-off key held only in memory, then
        seals it from the spool: no plaintext touches the disk.
        """
        with self._translated(None):
            sealing = self._sealing()
            if sealing is None:
                source, first = stream, read_exact(stream, len(MAGIC))
                rest = chunk_reader(itertools.chain([first], iter(lambda: source.read(CHUNK), b"")))
                if not first.startswith(MAGIC):
                    return self._put_stream(rest)
                stream = rest
            spool_key, spool_header = secrets.token_bytes(32), spool_header_for()
            with self._spool() as spool:
                hashing = HashingReader(stream)
                for piece in seal_chunks(hashing.reader(), spool_header, spool_key):
                    spool.write(piece)
                digest = hashing.digest()
                key = blob_key(digest)
                if not self._exists(key):
                    spool.seek(len(spool_header.encode()))
                    plain = chunk_reader(open_chunks(spool, spool_header, spool_key, digest))
                    self._write_stream(key, self._stored_form(plain, digest))
            return digest

    def get_bytes(self, digest: str) -> bytes:
        """The content stored under ``digest``, verified against it."""
        key = blob_key(digest)
        with self._translated(digest):
            raw = self._read(key)
        data = self._plaintext(raw, digest)
        actual = compute_digest(data)
        if actual != digest:
            raise _corrupt(digest, actual)
        return data

    def _plaintext(self, raw: bytes, digest: str) -> bytes:
        if not raw.startswith(MAGIC):
            return raw
        try:
            reader = self._reader(io.BytesIO(raw), digest)
            return reader.read()
        except IntegrityError:
            if compute_digest(raw) == digest:  # written before encryption, starting with MAGIC
                return raw
            raise

    def _reader(self, source: BinaryIO, digest: str) -> BinaryIO:
        """A reader of the plaintext of the stored object ``source``."""
        first = read_exact(source, PREFIX_BYTES)
        if not first.startswith(MAGIC):
            rest = iter(lambda: source.read(CHUNK), b"")
            return chunk_reader(itertools.chain([first], rest))
        if first[len(MAGIC)] == PLAIN:
            return source
        if self.envelope is None:
            raise IntegrityError(f"blob {digest} is encrypted and this store has no keys")
        return chunk_reader(self.envelope.open(source, first, digest))

    def download(self, digest: str, dest: str | os.PathLike[str], *, durable: bool = True) -> Path:
        """Write the blob to ``dest`` atomically, verifying it on the way; return ``dest``.

        Not ``durable``: skip the syncs that make it survive a crash (for scratch copies).
        """
        key = blob_key(digest)
        target = Path(dest)
        with self._translated(digest), self._open(key) as source:
            target.parent.mkdir(parents=True, exist_ok=True)
            plain = self._reader(source, digest)
            prefix = f".{target.name}."
            with copy_to_temp(plain, target.parent, prefix, sync=durable) as (temp, actual):
                if actual != digest:
                    raise _corrupt(digest, actual)
                if durable:
                    replace_durably(temp, target)
                else:
                    os.replace(temp, target)
        return target

    def ranged_reader(self, digest: str) -> BinaryIO | None:
        """A seekable reader of a sealed blob's plaintext that fetches and decrypts only the
        chunks a read covers (see ``_ranged``); None when the blob is not sealed (read it in
        place or download it). Its header is checked and its last chunk opened here; every
        chunk read is authenticated, in place of the whole-content digest check."""
        key = blob_key(digest)
        with self._translated(digest):
            source = self._open(key)
            try:
                first = read_exact(source, PREFIX_BYTES)
                if not first.startswith(MAGIC) or first[len(MAGIC)] == PLAIN:
                    source.close()
                    return None
                if self.envelope is None:
                    raise IntegrityError(f"blob {digest} is encrypted and this store has no keys")
                header = read_header(source, first, digest)
                data_key = self.envelope.data_key(header, digest)
                reader = SealedReader(source, header, data_key, self._size(key), digest)
                reader.check_last_chunk()
            except BaseException:
                source.close()
                raise
        return cast(BinaryIO, reader)

    def exists(self, digest: str) -> bool:
        """Whether a blob is stored under ``digest``."""
        key = blob_key(digest)
        with self._translated(digest):
            return self._exists(key)

    def size(self, digest: str) -> int:
        """The size of the blob's content in bytes."""
        key = blob_key(digest)
        with self._translated(digest):
            stored = self._size(key)
            source = io.BytesIO(self._read_head(key, HEADER_MAX))
            first = read_exact(source, PREFIX_BYTES)
            if not first.startswith(MAGIC):
                return stored
            if first[len(MAGIC)] == PLAIN:
                return stored - PREFIX_BYTES
            header = read_header(source, first, digest)
            return sealed_size(stored, len(header.encode()), header.chunk_bytes)

    def delete(self, digest: str) -> None:
        """Remove the blob; raises NotFound if there is none."""
        key = blob_key(digest)
        with self._translated(digest):
            self._delete(key)

    def local_file(self, digest: str) -> Path | None:
        """The blob's file if it can be read in place as it is (a local store's plaintext
        blob; check it with ``verify_in_place``), else None: download it to read it."""
        return None

    def digests(self) -> Iterator[str]:
        """The digest of every stored blob."""
        with self._translated(None):
            for key in self._list():
                name = "sha256:" + key.rsplit("/", 1)[-1]
                if _DIGEST.fullmatch(name) and blob_key(name) == key:
                    yield name

    def key_id(self, digest: str) -> str | None:
        """The key-encryption key the blob's data key is wrapped under; None if plaintext."""
        key = blob_key(digest)
        with self._translated(digest):
            source = io.BytesIO(self._read_head(key, HEADER_MAX))
            first = read_exact(source, PREFIX_BYTES)
            if not first.startswith(MAGIC) or first[len(MAGIC)] == PLAIN:
                return None
            return read_header(source, first, digest).wrapped.key_id

    def rewrap(self, digest: str, new_key_id: str) -> str | None:
        """Re-wrap the blob's data key under ``new_key_id`` without re-encrypting its data.

        The header's key slot is rewritten, so the whole object is written again (chunks
        copied as they are, through a local spool since an object store cannot patch an
        object in place). Returns the KEK it was under; None when the blob is plaintext or
        already under ``new_key_id``.
        """
        if self.envelope is None:
            raise IntegrityError("this blob store has no keys to rewrap with")
        keys = self.envelope.keys
        key = blob_key(digest)
        with self._translated(digest), self._open(key) as source, self._spool() as spool:
            first = read_exact(source, PREFIX_BYTES)
            if not first.startswith(MAGIC) or first[len(MAGIC)] == PLAIN:
                return None
            header = read_header(source, first, digest)
            if header.wrapped.key_id == new_key_id:
                return None
            wrapped = keys.re_encrypt(header.wrapped, header.context, new_key_id)
            spool.write(dataclasses.replace(header, wrapped=wrapped).encode())
            while chunk := source.read(CHUNK):
                spool.write(chunk)
            spool.seek(0)
            self._write_stream(key, spool)
        return header.wrapped.key_id

    @contextmanager
    def _translated(self, digest: str | None) -> Iterator[None]:
        backend_errors: tuple[type[BaseException], ...] = (OSError, *self.backend_errors)
        try:
            yield
        except ShipyardError:
            raise
        except FileNotFoundError as exc:
            if digest is None:
                raise StorageError(f"blob store {self.url} failed: {exc}") from exc
            raise NotFound(f"no blob {digest} in {self.url}") from exc
        except backend_errors as exc:
            raise StorageError(f"blob store {self.url} failed: {exc}") from exc

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _size(self, key: str) -> int: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...

    @abstractmethod
    def _open(self, key: str) -> BinaryIO: ...

    def _read_head(self, key: str, size: int) -> bytes:
        """The first ``size`` bytes of ``key`` (fewer if it is shorter)."""
        with self._open(key) as source:
            return read_exact(source, size)

    @abstractmethod
    def _write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _write_stream(
        self, key: str, source: BinaryIO, check: Callable[[], None] | None = None
    ) -> None:
        """Store (or replace) ``key`` with all of ``source``, atomically; ``check`` runs
        after the last byte is read and before the object appears, and may raise to abort."""

    @abstractmethod
    def _spool(self) -> BinaryIO:
        """A temporary file, removed when closed, for staging ciphertext."""

    @abstractmethod
    def _list(self) -> Iterator[str]:
        """The keys of every stored blob (``sha256/...``)."""

    @abstractmethod
    def _put_stream(self, stream: BinaryIO) -> str: ...

    def _put_file(self, source: BinaryIO, path: Path) -> str:
        return self._put_stream(source)

    def _adopt(self, path: Path, key: str) -> bool:
        """Move ``path`` into place under ``key`` if the backend can; False to copy instead."""
        return False

    @abstractmethod
    def _delete(self, key: str) -> None: ...


def _corrupt(digest: str, actual: str) -> IntegrityError:
    return IntegrityError(f"blob {digest} is corrupt: its stored bytes hash to {actual}")
