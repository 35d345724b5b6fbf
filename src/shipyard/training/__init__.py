"""Training: specs, the estimator allowlist, and fitting a spec on a table.

Pure functions only; the job runner and the model registry build on them.
"""

from shipyard.training._allowlist import ESTIMATORS, PIPELINE, EstimatorEntry
from shipyard.training._check import check_columns, check_spec
from shipyard.training._fit import FitResult, LogCallback, ProgressCallback, fit
from shipyard.training._metrics import DEFAULT_METRICS, METRICS
from shipyard.training._preprocessing_spec import PreprocessingSpec
from shipyard.training._rounds import ROUND_FLAVORS, RoundReporter, StopTraining
from shipyard.training._spec import SplitSpec, TrainingSpec, load_spec, parse_spec
from shipyard.training._validation import VALIDATION_ROWS, validation_parquet

__all__ = [
    "DEFAULT_METRICS",
    "ESTIMATORS",
    "METRICS",
    "PIPELINE",
    "ROUND_FLAVORS",
    "VALIDATION_ROWS",
    "EstimatorEntry",
    "FitResult",
    "LogCallback",
    "PreprocessingSpec",
    "ProgressCallback",
    "RoundReporter",
    "SplitSpec",
    "StopTraining",
    "TrainingSpec",
    "check_columns",
    "check_spec",
    "fit",
    "load_spec",
    "parse_spec",
    "validation_parquet",
]
