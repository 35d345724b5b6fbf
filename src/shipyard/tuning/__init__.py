"""Hyperparameter tuning: a search space over a training spec, searched by Optuna with its
study in the platform's database; each trial a child run of the tuning job's run."""

from shipyard.tuning._report import render_report
from shipyard.tuning._results import TrialInfo, TuningBest, best_trials, own_trials, trial_info
from shipyard.tuning._spec import Objective, Parameter, TuningSpec, parse_tuning_spec
from shipyard.tuning._storage import open_storage, storage_target, study_name

__all__ = [
    "Objective",
    "Parameter",
    "TrialInfo",
    "TuningBest",
    "TuningSpec",
    "best_trials",
    "open_storage",
    "own_trials",
    "parse_tuning_spec",
    "render_report",
    "storage_target",
    "study_name",
    "trial_info",
]
