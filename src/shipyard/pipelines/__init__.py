"""Pipelines: DAGs of steps (ingest, validate, transform, features, train, tune, AutoML,
evaluate, condition, register, approve, deploy, batch transform, own code) with
parameters, cached steps, retries, resume, and manual, scheduled, dataset and alarm
triggers; each run a job of the one job system.

The names load on first use, so the SDK can build a pipeline in Python (``Pipeline``,
``step``) without importing the services.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.pipelines._models import PipelineInfo, PipelineRunInfo, StepInfo, StepNode
    from shipyard.pipelines._python import Pipeline, step
    from shipyard.pipelines._service import (
        cancel_pipeline_run,
        create_pipeline,
        delete_pipeline,
        get_pipeline,
        get_pipeline_run,
        list_pipeline_runs,
        list_pipelines,
        read_pipeline_run_log,
        resume_pipeline_run,
        start_pipeline_run,
    )
    from shipyard.pipelines._spec import PipelineSpec, parse_pipeline_spec
    from shipyard.pipelines._trigger import produced_by, start_run

_LAZY = {
    "PipelineInfo": "_models",
    "PipelineRunInfo": "_models",
    "StepInfo": "_models",
    "StepNode": "_models",
    "Pipeline": "_python",
    "step": "_python",
    "cancel_pipeline_run": "_service",
    "create_pipeline": "_service",
    "delete_pipeline": "_service",
    "get_pipeline": "_service",
    "get_pipeline_run": "_service",
    "list_pipeline_runs": "_service",
    "list_pipelines": "_service",
    "read_pipeline_run_log": "_service",
    "resume_pipeline_run": "_service",
    "start_pipeline_run": "_service",
    "PipelineSpec": "_spec",
    "parse_pipeline_spec": "_spec",
    "produced_by": "_trigger",
    "start_run": "_trigger",
}

__all__ = [
    "Pipeline",
    "PipelineInfo",
    "PipelineRunInfo",
    "PipelineSpec",
    "StepInfo",
    "StepNode",
    "cancel_pipeline_run",
    "create_pipeline",
    "delete_pipeline",
    "get_pipeline",
    "get_pipeline_run",
    "list_pipeline_runs",
    "list_pipelines",
    "parse_pipeline_spec",
    "produced_by",
    "read_pipeline_run_log",
    "resume_pipeline_run",
    "start_pipeline_run",
    "start_run",
    "step",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.pipelines' has no attribute {name!r}")
    return getattr(importlib.import_module(f"shipyard.pipelines.{module}"), name)
