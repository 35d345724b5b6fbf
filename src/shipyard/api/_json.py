"""JSON responses rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette import responses


class JSONResponse(responses.JSONResponse):
    """A JSON body encoded by orjson (fast, and strict about NaN).

    A ``JSONResponse`` subclass, so FastAPI leaves the documented result schemas as given.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
