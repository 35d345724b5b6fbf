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
from shipyard.jobs._training import (
    cancel_training_job,
    create_training_job,
    get_training_job,
    list_training_jobs,
    read_training_log,
)
from shipyard.jobs._training_code import run_training_code
from shipyard.jobs._tuning import (
    cancel_tuning_job,
    create_tuning_job,
    get_tuning_job,
    list_tuning_jobs,
    read_tuning_log,
    resume_tuning_job,
)
from shipyard.jobs._tuning_results import (
    TuningReport,
    best_tuning_trials,
    list_tuning_trials,
    register_best_trial,
    tuning_report,
)
from shipyard.schemas.jobs import (
    FINAL_STATUSES,
    AutoMLJobInfo,
    JobInfo,
    JobLimits,
    JobStatus,
    LogChunk,
    ResourceRecord,
    TrainingJobInfo,
    TuningJobInfo,
)

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
    "TuningJobInfo",
    "TuningReport",
    "best_tuning_trials",
    "cancel_automl_job",
    "cancel_training_job",
    "cancel_tuning_job",
    "create_automl_job",
    "create_training_job",
    "create_tuning_job",
    "get_automl_job",
    "get_automl_leaderboard",
    "get_training_job",
    "get_tuning_job",
    "list_automl_jobs",
    "list_training_jobs",
    "list_tuning_jobs",
    "list_tuning_trials",
    "read_automl_log",
    "read_training_log",
    "read_tuning_log",
    "register_best_trial",
    "register_kind",
    "resume_tuning_job",
    "run_training_code",
    "tuning_report",
]
