"""Streamed results: a ``RecordBatchReader`` goes out as an Arrow IPC stream, batch by batch.

The IPC writer hands over the batches' own buffers (no copy); the pieces of one batch are
joined into one chunk, so the server holds about one batch at a time and the socket sees
large writes. Backpressure comes from the server: the next batch is read only when the
previous chunk has been taken by the connection. A failure after the first byte cannot
change the status any more: the stream then ends without its end-of-stream marker, and
the connection is cut, which the SDK reports as an incomplete stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.ipc as ipc
from starlette.responses import StreamingResponse

ARROW_STREAM = "application/vnd.apache.arrow.stream"


class _Pieces:
    """A write-only file that keeps what the IPC writer writes, to be taken chunk by chunk."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes | pa.Buffer] = []

    def write(self, data: bytes | pa.Buffer) -> int:
        self._parts.append(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        chunk = b"".join(self._parts)
        self._parts.clear()
        return chunk


def arrow_ipc_chunks(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """The Arrow IPC stream of ``reader``: the schema, then one chunk per batch, then the end."""
    pieces = _Pieces()
    try:
        with ipc.new_stream(pieces, reader.schema) as writer:
            yield pieces.take()
            for batch in reader:
                writer.write_batch(batch)
                yield pieces.take()
        yield pieces.take()
    finally:
        reader.close()


def arrow_stream_response(reader: pa.RecordBatchReader, status_code: int) -> StreamingResponse:
    """A response that streams ``reader`` as Arrow IPC."""
    return StreamingResponse(
        arrow_ipc_chunks(reader), status_code=status_code, media_type=ARROW_STREAM
    )
