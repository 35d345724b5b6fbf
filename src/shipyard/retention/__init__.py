"""Retention: how long captures, dataset versions and deleted runs are kept, applied by hand
or on a schedule."""

from shipyard.retention._apply import apply, apply_rule
from shipyard.retention._rules import delete_rule, list_rules, put_rule
from shipyard.schemas.retention import RetentionOutcome, RetentionReport, RetentionRule

__all__ = [
    "RetentionOutcome",
    "RetentionReport",
    "RetentionRule",
    "apply",
    "apply_rule",
    "delete_rule",
    "list_rules",
    "put_rule",
]
