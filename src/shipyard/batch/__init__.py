"""Batch transform: score a whole dataset version into a new one, in chunks, resumably."""

from shipyard.batch._models import BatchJobInfo
from shipyard.batch._output import OutputWriter, register_dataset_file
from shipyard.batch._plan import OutputPlan, check_input_schema, plan_output
from shipyard.batch._service import (
    create_batch_job,
    get_batch_job,
    list_batch_jobs,
    read_batch_log,
    resume_batch_job,
)

__all__ = [
    "BatchJobInfo",
    "OutputPlan",
    "OutputWriter",
    "check_input_schema",
    "create_batch_job",
    "get_batch_job",
    "list_batch_jobs",
    "plan_output",
    "read_batch_log",
    "register_dataset_file",
    "resume_batch_job",
]
