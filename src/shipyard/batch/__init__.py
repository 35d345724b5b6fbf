"""Batch transform: score a whole dataset version into a new one, in chunks, resumably.

The names load on first use, so scoring workers (which import this package) do
not pay for the job service and its database machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.batch._plan import OutputPlan, check_input_schema, plan_output
    from shipyard.batch._service import (
        cancel_batch_job,
        create_batch_job,
        get_batch_job,
        list_batch_jobs,
        read_batch_log,
        resume_batch_job,
    )
    from shipyard.schemas.batch import BatchJobInfo

_LAZY = {
    "BatchJobInfo": "shipyard.schemas.batch",
    "OutputPlan": "shipyard.batch._plan",
    "check_input_schema": "shipyard.batch._plan",
    "plan_output": "shipyard.batch._plan",
    "cancel_batch_job": "shipyard.batch._service",
    "create_batch_job": "shipyard.batch._service",
    "get_batch_job": "shipyard.batch._service",
    "list_batch_jobs": "shipyard.batch._service",
    "read_batch_log": "shipyard.batch._service",
    "resume_batch_job": "shipyard.batch._service",
}

__all__ = [
    "BatchJobInfo",
    "OutputPlan",
    "cancel_batch_job",
    "check_input_schema",
    "create_batch_job",
    "get_batch_job",
    "list_batch_jobs",
    "plan_output",
    "read_batch_log",
    "resume_batch_job",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.batch' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
