"""One job system: kinds (training, batch transform, ...) under one service and worker main."""

from shipyard.jobs._attempt import JobAttempt, RetryableError
from shipyard.jobs._automl import (
    cancel_automl_job,
    create_automl_job,
    get_automl_job,
    get_automl_leaderboard,
    list_automl_jobs,
    read_automl_log,
)
from shipyard.jobs._context import RunLog, TrainingContext
from shipyard.jobs._kinds import KINDS, JobKind, register_kind
from shipyard.jobs._models import (
    FINAL_STATUSES,
    AutoMLJobInfo,
    JobInfo,
    JobLimits,
    JobStatus,
    LogChunk,
    ResourceRecord,
    TrainingJobInfo,
)
from shipyard.jobs._training import (
    cancel_training_job,
    create_training_job,
    get_training_job,
    list_training_jobs,
    read_training_log,
)
from shipyard.jobs._training_code import run_training_code

__all__ = [
    "FINAL_STATUSES",
    "KINDS",
    "AutoMLJobInfo",
    "JobAttempt",
    "JobInfo",
    "JobKind",
    "JobLimits",
    "JobStatus",
    "LogChunk",
    "ResourceRecord",
    "RetryableError",
    "RunLog",
    "TrainingContext",
    "TrainingJobInfo",
    "cancel_automl_job",
    "cancel_training_job",
    "create_automl_job",
    "create_training_job",
    "get_automl_job",
    "get_automl_leaderboard",
    "get_training_job",
    "list_automl_jobs",
    "list_training_jobs",
    "read_automl_log",
    "read_training_log",
    "register_kind",
    "run_training_code",
]
