"""Validation thresholds with MLflow's ``MetricThreshold`` semantics, and their text form.

A rule for a metric may set a ``threshold`` (the candidate's value must be >= it, or <=
when lower is better), a ``min_absolute_change`` (candidate >= baseline + change, or <=
baseline - change) and a ``min_relative_change`` in [0, 1] (the change relative to the
baseline; when the baseline is 0, any strict improvement of 1e-10). All set parts must
hold. A comparison rule with no baseline value fails, as in MLflow's ``_validate``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from pydantic import ConfigDict

from shipyard.errors import InvalidInput
from shipyard.schemas._base import WireModel

METRICS: dict[str, tuple[str, bool]] = {
    "accuracy": ("classification", True),
    "precision": ("classification", True),
    "recall": ("classification", True),
    "f1": ("classification", True),
    "auc": ("classification", True),
    "average_precision": ("classification", True),
    "log_loss": ("classification", False),
    "rmse": ("regression", False),
    "mse": ("regression", False),
    "mae": ("regression", False),
    "r2": ("regression", True),
    "max_error": ("regression", False),
    "mape": ("regression", False),
}
"""Every metric an evaluation computes: its task, and whether a greater value is better."""

_ZERO_BASELINE_STEP = 1e-10
_RULE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*(\S+)\s*$")
_PAIR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$")


class MetricThreshold(WireModel):
    """What one metric must reach, alone and against the baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool | None = None


class RuleResult(WireModel):
    """The outcome of one part of one metric's rule."""

    metric: str
    rule: str
    candidate: float | None
    baseline: float | None
    passed: bool
    message: str


def check_metric_name(metric: str, task: str | None = None, *, field: str) -> bool:
    """The metric's ``greater_is_better``; InvalidInput naming ``field`` when unknown or not
    computed for ``task``."""
    known = METRICS.get(metric)
    if known is None or (task is not None and known[0] != task):
        names = ", ".join(m for m, (k, _) in METRICS.items() if task is None or k == task)
        raise InvalidInput(f"unknown metric {metric!r}; known metrics: {names}", field=field)
    return known[1]


def checked_thresholds(
    thresholds: Mapping[str, MetricThreshold], task: str | None = None
) -> dict[str, MetricThreshold]:
    """Thresholds with every metric known and ``greater_is_better`` filled in; MLflow's
    constructor checks (a positive absolute change, a relative change in [0, 1])."""
    checked = {}
    for metric, rule in thresholds.items():
        field = f"thresholds.{metric}"
        better = check_metric_name(metric, task, field=field)
        if rule.greater_is_better is not None and rule.greater_is_better != better:
            direction = "greater" if better else "lower"
            raise InvalidInput(
                f"a {direction} {metric} is better; greater_is_better must be {better}",
                field=f"{field}.greater_is_better",
            )
        for part in ("threshold", "min_absolute_change", "min_relative_change"):
            value = getattr(rule, part)
            if value is not None and not math.isfinite(value):
                raise InvalidInput("must be a finite number", field=f"{field}.{part}")
        if rule.min_absolute_change is not None and rule.min_absolute_change <= 0:
            raise InvalidInput("must be a positive number", field=f"{field}.min_absolute_change")
        if rule.min_relative_change is not None and not 0 <= rule.min_relative_change <= 1:
            raise InvalidInput("must be between 0 and 1", field=f"{field}.min_relative_change")
        if None is rule.threshold is rule.min_absolute_change is rule.min_relative_change:
            raise InvalidInput("no threshold was specified", field=field)
        checked[metric] = rule.model_copy(update={"greater_is_better": better})
    return checked


def parse_thresholds(
    rules: Sequence[str] = (),
    min_absolute_change: Sequence[str] = (),
    min_relative_change: Sequence[str] = (),
) -> dict[str, MetricThreshold]:
    """``["auc>=0.9"]``, ``["auc=0.01"]``, ``["auc=0.05"]`` as one rule per metric.

    The comparison must be the metric's direction: ``>=`` where greater is better.
    """
    parts: dict[str, dict[str, float]] = {}
    for text in rules:
        found = _RULE.match(text)
        if found is None:
            raise InvalidInput(
                f"expected METRIC>=VALUE or METRIC<=VALUE, got {text!r}", field="threshold"
            )
        metric, op, value = found.groups()
        better = check_metric_name(metric, field="threshold")
        if (op == ">=") != better:
            want = ">=" if better else "<="
            raise InvalidInput(
                f"a {'greater' if better else 'lower'} {metric} is better; write {metric}{want}",
                field="threshold",
            )
        parts.setdefault(metric, {})["threshold"] = _number(value, "threshold")
    for field, texts in (
        ("min_absolute_change", min_absolute_change),
        ("min_relative_change", min_relative_change),
    ):
        for text in texts:
            found = _PAIR.match(text)
            if found is None:
                raise InvalidInput(f"expected METRIC=VALUE, got {text!r}", field=field)
            metric, value = found.groups()
            check_metric_name(metric, field=field)
            parts.setdefault(metric, {})[field] = _number(value, field)
    return checked_thresholds({m: MetricThreshold(**p) for m, p in parts.items()})


def _number(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number", field=field) from None
    if not math.isfinite(value):
        raise InvalidInput("must be a finite number", field=field)
    return value


def describe_rule(metric: str, rule: MetricThreshold) -> str:
    """The rule as a user would write it: ``auc>=0.9, +0.01 absolute, +5% relative``."""
    op = ">=" if rule.greater_is_better else "<="
    sign = "+" if rule.greater_is_better else "-"
    words = []
    if rule.threshold is not None:
        words.append(f"{metric}{op}{rule.threshold:g}")
    if rule.min_absolute_change is not None:
        words.append(f"{metric} {sign}{rule.min_absolute_change:g} vs baseline")
    if rule.min_relative_change is not None:
        words.append(f"{metric} {sign}{rule.min_relative_change:.2%} vs baseline")
    return ", ".join(words)


def validate(
    thresholds: Mapping[str, MetricThreshold],
    candidate: Mapping[str, float],
    baseline: Mapping[str, float] | None,
) -> list[RuleResult]:
    """One result per set part of every rule, as MLflow's ``_validate`` decides them."""
    results: list[RuleResult] = []
    base = dict(baseline or {})
    for metric, rule in thresholds.items():
        better = bool(rule.greater_is_better)
        value = candidate.get(metric)
        if value is None:
            results.append(
                _result(metric, "present", None, None, False, "missing from the candidate")
            )
            continue
        ge = _ge if better else _le
        if rule.threshold is not None:
            passed = ge(value, rule.threshold)
            rule_text = f"{metric}{'>=' if better else '<='}{rule.threshold:g}"
            results.append(_result(metric, rule_text, value, None, passed, ""))
        if rule.min_absolute_change is None and rule.min_relative_change is None:
            continue
        reference = base.get(metric)
        if reference is None:
            results.append(
                _result(metric, "baseline", value, None, False, "missing from the baseline")
            )
            continue
        step = rule.min_absolute_change
        if step is not None:
            target = reference + step if better else reference - step
            passed = ge(Decimal(value), Decimal(target))
            rule_text = f"min_absolute_change={step:g}"
            results.append(_result(metric, rule_text, value, reference, passed, ""))
        relative = rule.min_relative_change
        if relative is not None:
            rule_text = f"min_relative_change={relative:g}"
            if reference == 0:
                target = reference + _ZERO_BASELINE_STEP if better else -_ZERO_BASELINE_STEP
                passed = ge(Decimal(value), Decimal(target))
            else:
                change = (value - reference if better else reference - value) / reference
                passed = not change < relative
            results.append(_result(metric, rule_text, value, reference, passed, ""))
    return results


def _ge(a: float | Decimal, b: float | Decimal) -> bool:
    return a >= b


def _le(a: float | Decimal, b: float | Decimal) -> bool:
    return a <= b


def _result(
    metric: str,
    rule: str,
    candidate: float | None,
    baseline: float | None,
    passed: bool,
    problem: str,
) -> RuleResult:
    if problem:
        shown = f" = {candidate:.6g}" if candidate is not None else ""
        message = f"{metric}{shown}: {problem}"
    else:
        shown = f"{metric} = {candidate:.6g}"
        if baseline is not None:
            shown += f" (baseline {baseline:.6g})"
        message = f"{shown} {'meets' if passed else 'fails'} {rule}"
    return RuleResult(
        metric=metric,
        rule=rule,
        candidate=candidate,
        baseline=baseline,
        passed=passed,
        message=message,
    )
