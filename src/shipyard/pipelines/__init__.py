"""Pipelines: DAGs of steps (ingest, validate, transform, features, train, tune, AutoML,
evaluate, condition, register, approve, deploy, batch transform, own code) with
parameters, cached steps, retries, resume, and manual, scheduled, dataset and alarm
triggers; each run a job of the one job system."""

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
    run_accesses,
    start_pipeline_run,
)
from shipyard.pipelines._spec import PipelineSpec, parse_pipeline_spec
from shipyard.pipelines._trigger import produced_by, start_run
from shipyard.schemas.pipeline_builder import Pipeline, step
from shipyard.schemas.pipelines import PipelineInfo, PipelineRunInfo, StepInfo, StepNode

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
    "run_accesses",
    "start_pipeline_run",
    "start_run",
    "step",
]
