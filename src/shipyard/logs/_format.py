"""One JSON object per log line, with secrets masked.

Fields: ``time`` (ISO 8601 UTC), ``level``, ``component``, ``logger``, ``message``, and
``request_id`` / ``job_id`` / ``resource`` / ``principal`` when known; ``error`` holds a
traceback. Messages are masked before they are written: API keys (``sy_<id>_<secret>``),
bearer tokens, and the value after any ``secret``, ``password``, ``token``, ``api_key``
or ``authorization`` key, so a request logged by mistake still leaks none of them.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import orjson

from shipyard.logs._context import FIELDS

MASK = "***"
_PATTERNS = (
    re.compile(r"\bsy_[0-9a-f]{16}_[A-Za-z0-9_\-]{20,}"),
    re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)((?:secret|password|passwd|token|api[_-]?key|authorization|signing[_-]?key)"
        r"[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?[^\s\"',;}&]+"
    ),
)


def mask_secrets(text: str) -> str:
    """``text`` with API keys, bearer tokens and values of secret-named keys masked."""
    text = _PATTERNS[0].sub(MASK, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)
    return _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (orjson), secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "component": getattr(record, "component", ""),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value:
                line[name] = str(value)
        if record.exc_info:
            line["error"] = mask_secrets(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()
