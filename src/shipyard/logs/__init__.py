"""Structured logs: JSON lines per component under ``<home>/logs``, and reading them back."""

from shipyard.logs._context import log_context
from shipyard.logs._format import JsonFormatter, mask_secrets
from shipyard.logs._read import LEVELS, LogFilter, follow_logs, read_logs
from shipyard.logs._setup import COMPONENTS, FILE_ONLY, configure_logging, log_file, stop_logging

__all__ = [
    "COMPONENTS",
    "FILE_ONLY",
    "LEVELS",
    "JsonFormatter",
    "LogFilter",
    "configure_logging",
    "follow_logs",
    "log_context",
    "log_file",
    "mask_secrets",
    "read_logs",
    "stop_logging",
]
