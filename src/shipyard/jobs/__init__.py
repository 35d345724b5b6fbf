"""Jobs that run in worker processes: training (batch and tuning jobs come later)."""

from shipyard.jobs._models import LogChunk, TrainingJobInfo
from shipyard.jobs._training import (
    create_training_job,
    get_training_job,
    list_training_jobs,
    read_training_log,
)

__all__ = [
    "LogChunk",
    "TrainingJobInfo",
    "create_training_job",
    "get_training_job",
    "list_training_jobs",
    "read_training_log",
]
