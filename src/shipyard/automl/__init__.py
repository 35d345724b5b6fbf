"""AutoML: choosing and tuning a model family under a wall-time budget.

Candidate families suited to the task and data (``_candidates``), a cost-aware
scheduler with Optuna TPE inside each family (``_search``), cross-validated scoring
(``_evaluate``), greedy ensemble selection (``_ensemble``) and the leaderboard that
explains the pick (``_models``). The job kind that runs it is ``jobs/_automl.py``.

The search machinery (scikit-learn, LightGBM, XGBoost, Optuna) loads on first use of
``run_search``, so the control plane and the CLI start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shipyard.automl._budget import MIN_BUDGET_SECONDS, parse_budget
from shipyard.schemas.automl import Leaderboard, LeaderboardEntry

if TYPE_CHECKING:
    from shipyard.automl._run import Outcome, run_search

_LAZY = {"Outcome": "shipyard.automl._run", "run_search": "shipyard.automl._run"}

__all__ = [
    "MIN_BUDGET_SECONDS",
    "Leaderboard",
    "LeaderboardEntry",
    "Outcome",
    "parse_budget",
    "run_search",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.automl' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
