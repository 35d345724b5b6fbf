"""An Arrow IPC stream read from an HTTP response as it arrives, in bounded memory."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc

from shipyard.errors import StorageError

_CHUNK_BYTES = 1 << 20
_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"


class _ResponseBody(io.RawIOBase):
    """A streamed response body as a readable file (what pyarrow's IPC reader reads)."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_raw(_CHUNK_BYTES)
        self._left = memoryview(b"")
        self.tail = b""  # the last bytes received: the end-of-stream marker when complete

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._left:
            chunk = next(self._chunks, b"")
            if not chunk:
                return 0
            self._left = memoryview(chunk)
            self.tail = (self.tail + chunk[-len(_END_OF_STREAM) :])[-len(_END_OF_STREAM) :]
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def open_arrow_stream(response: httpx.Response) -> pa.RecordBatchReader:
    """A reader of the response's record batches; the response is closed when it is done.

    A stream that breaks off (the server failed after it began, or the connection was
    lost) raises StorageError rather than ending early as if complete.
    """
    body = _ResponseBody(response)
    try:
        reader = ipc.open_stream(io.BufferedReader(body, buffer_size=_CHUNK_BYTES))
    except (pa.ArrowException, OSError, httpx.HTTPError) as error:
        response.close()
        raise stream_broke_off(error) from None
    return pa.RecordBatchReader.from_batches(reader.schema, _batches(reader, body, response))


def _batches(
    reader: ipc.RecordBatchStreamReader, body: _ResponseBody, response: httpx.Response
) -> Iterator[pa.RecordBatch]:
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                if body.tail != _END_OF_STREAM:  # pyarrow takes a bare end of data as the end
                    raise stream_broke_off(ValueError("no end-of-stream marker")) from None
                return
            except (pa.ArrowException, OSError, httpx.HTTPError) as error:
                raise stream_broke_off(error) from None
            yield batch
    finally:
        response.close()


def stream_broke_off(error: Exception) -> StorageError:
    """The server began answering with a table, but the stream ended before its end."""
    return StorageError(f"the table stream from the server broke off: {error}")
