"""AutoML: choosing and tuning a model family under a wall-time budget.

Candidate families suited to the task and data (``_candidates``), a cost-aware
scheduler with Optuna TPE inside each family (``_search``), cross-validated scoring
(``_evaluate``), greedy ensemble selection (``_ensemble``) and the leaderboard that
explains the pick (``_models``). The job kind that runs it is ``jobs/_automl.py``.
"""

from shipyard.automl._budget import parse_budget
from shipyard.automl._models import Leaderboard, LeaderboardEntry
from shipyard.automl._run import Outcome, run_search
from shipyard.automl._scoring import check_metric, default_metric

__all__ = [
    "Leaderboard",
    "LeaderboardEntry",
    "Outcome",
    "check_metric",
    "default_metric",
    "parse_budget",
    "run_search",
]
