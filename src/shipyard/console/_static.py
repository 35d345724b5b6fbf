"""The console's files, served from inside the package: no CDN, no build step at run time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from shipyard.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}


@dataclass(frozen=True)
class _Cached:
    stamp: tuple[int, int]
    body: bytes
    etag: str


class StaticFiles:
    """Files under one directory by relative path: contained, typed, with an ETag.

    A path is served only when it resolves inside the directory, names a regular file
    and has a known type; anything else is a 404 (no listing, no dotfiles). Bodies are
    cached by (mtime, size), so an edited file is picked up on the next request.
    """

    def __init__(self, root: Path = STATIC_DIR) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, _Cached] = {}

    def _file(self, relative: str) -> Path:
        parts = relative.split("/")
        if not relative or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise NotFound(f"no console file {relative!r}", field="path")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise NotFound(f"no console file {relative!r}", field="path")
        if path.suffix not in CONTENT_TYPES:
            raise NotFound(f"no console file {relative!r}", field="path")
        return path

    def response(self, request: Request, relative: str) -> Response:
        """The file, or 304 when the browser's copy (``If-None-Match``) is current."""
        path = self._file(relative)
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is None or cached.stamp != stamp:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            cached = self._cache[path] = _Cached(stamp, body, etag)
        headers = {"ETag": cached.etag, "Cache-Control": "no-cache"}
        if cached.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(cached.body, media_type=CONTENT_TYPES[path.suffix], headers=headers)
