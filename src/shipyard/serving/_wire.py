"""Messages between a serving supervisor and its workers, over a private Unix socket.

Each message is a header of two big-endian 32-bit lengths, then a JSON document, then that
many bytes of payload (Arrow IPC for capture tables; usually none)::

    | document length | payload length | JSON document | payload |

A request is ``{"op": NAME, ...arguments}``; its answer ``{"result": ...}`` or the one error
document of ``shipyard.errors`` (``{"error": {"type", "message", "field"}}``).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

from shipyard.errors import StorageError

_HEADER = struct.Struct(">II")
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024


class LinkClosed(StorageError):
    """The other end of the socket went away, or sent something that is not a message."""


def send_message(sock: socket.socket, document: dict[str, Any], payload: bytes = b"") -> None:
    body = json.dumps(document, separators=(",", ":")).encode()
    sock.sendall(_HEADER.pack(len(body), len(payload)) + body)
    if payload:
        sock.sendall(payload)


def _read(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:], size - got)
        if count == 0:
            raise LinkClosed("the serving supervisor's socket closed")
        got += count
    return bytes(buffer)


def receive_message(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The next message's document and payload; LinkClosed at the end or on a bad one."""
    size, payload_size = _HEADER.unpack(_read(sock, _HEADER.size))
    if size > MAX_DOCUMENT_BYTES or payload_size > MAX_PAYLOAD_BYTES:
        raise LinkClosed(f"a message of {size} + {payload_size} bytes is over the limit")
    try:
        document = json.loads(_read(sock, size))
    except ValueError as exc:
        raise LinkClosed(f"a message that is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise LinkClosed("a message that is not a JSON object")
    return document, _read(sock, payload_size) if payload_size else b""
