"""Hyperparameter tuning: a search space over a training spec, searched by Optuna with its
study in the platform's database; each trial a child run of the tuning job's run.

Optuna loads only where a study is used (the tuning job's worker, its trials, the results
operations), so importing the job system stays cheap for every other kind of job.
"""

from shipyard.schemas.tuning import PruningSavings, TrialInfo, TuningBest
from shipyard.schemas.tuning_spec import Objective, Parameter, TuningSpec, parse_tuning_spec
from shipyard.tuning._storage import open_storage, storage_target, study_name

__all__ = [
    "Objective",
    "Parameter",
    "PruningSavings",
    "TrialInfo",
    "TuningBest",
    "TuningSpec",
    "open_storage",
    "parse_tuning_spec",
    "storage_target",
    "study_name",
]
