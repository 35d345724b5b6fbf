"""Evaluations and gates in the SDK: evaluate a version, read reports, set a model's gate."""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shipyard.client._group import _Group
from shipyard.schemas.evaluation import EvaluationInfo, GateInfo
from shipyard.schemas.thresholds import MetricThreshold, parse_thresholds

Rules = Mapping[str, MetricThreshold | Mapping[str, Any]] | Sequence[str] | None


def threshold_rules(
    thresholds: Rules,
    min_absolute_change: Mapping[str, float] | None = None,
    min_relative_change: Mapping[str, float] | None = None,
) -> dict[str, dict[str, Any]]:
    """One rule per metric from ``{"auc": {"threshold": 0.9}}`` or ``["auc>=0.9"]``, with
    the comparison parts merged in (the server checks every rule)."""
    rules: dict[str, dict[str, Any]] = {}
    if isinstance(thresholds, Mapping):
        for metric, rule in thresholds.items():
            rules[metric] = (
                rule.model_dump(exclude_none=True)
                if isinstance(rule, MetricThreshold)
                else dict(rule)
            )
    elif thresholds:
        parsed = parse_thresholds(list(thresholds))
        rules = {m: r.model_dump(exclude_none=True) for m, r in parsed.items()}
    for part, given in (
        ("min_absolute_change", min_absolute_change),
        ("min_relative_change", min_relative_change),
    ):
        for metric, value in (given or {}).items():
            rules.setdefault(metric, {})[part] = value
    return rules


class Evaluations(_Group):
    def evaluate(
        self,
        ref: str,
        data: str,
        *,
        baseline: str | None = None,
        thresholds: Rules = None,
        min_absolute_change: Mapping[str, float] | None = None,
        min_relative_change: Mapping[str, float] | None = None,
        resamples: int = 200,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> EvaluationInfo:
        """Evaluate ``ref`` (``m@3``) on dataset version ``data``; with thresholds (MLflow's
        MetricThreshold rules) against ``baseline`` (``m@champion``), ``info.passed`` says
        whether it met them. The HTML report is ``report(info.id)``."""
        rules = threshold_rules(thresholds, min_absolute_change, min_relative_change)
        return EvaluationInfo.model_validate(
            self._t.call(
                "evaluation.evaluate",
                ref=ref,
                data=data,
                baseline=baseline,
                thresholds=rules or None,
                resamples=resamples,
                confidence=confidence,
                seed=seed,
            )
        )

    def get(self, evaluation_id: str) -> EvaluationInfo:
        return EvaluationInfo.model_validate(
            self._t.call("evaluation.get", evaluation_id=evaluation_id)
        )

    def list(self, ref: str, *, limit: int = 50) -> builtins.list[EvaluationInfo]:
        """Evaluations of ``m@3`` (one version) or ``m`` (every version), newest first."""
        found = self._t.call("evaluation.list", ref=ref, limit=limit)
        return [EvaluationInfo.model_validate(e) for e in found]

    def report(self, evaluation_id: str, out: str | os.PathLike[str] | None = None) -> bytes:
        """The self-contained HTML report; also written to ``out`` when given."""
        data: bytes = self._t.call("evaluation.report", evaluation_id=evaluation_id)
        if out is not None:
            Path(out).write_bytes(data)
        return data

    def set_gate(
        self,
        model: str,
        data: str,
        *,
        thresholds: Rules,
        min_absolute_change: Mapping[str, float] | None = None,
        min_relative_change: Mapping[str, float] | None = None,
        baseline: str | None = "champion",
        stages: Sequence[str] | None = None,
    ) -> GateInfo:
        """Hold ``model``'s versions to thresholds on ``data`` against ``baseline`` (an alias
        or version of the model) when registered, approved or deployed (``stages``)."""
        rules = threshold_rules(thresholds, min_absolute_change, min_relative_change)
        return GateInfo.model_validate(
            self._t.call(
                "evaluation.set_gate",
                name=model,
                data=data,
                thresholds=rules,
                baseline=baseline,
                stages=builtins.list(stages) if stages is not None else None,
            )
        )

    def get_gate(self, model: str) -> GateInfo:
        return GateInfo.model_validate(self._t.call("evaluation.get_gate", name=model))

    def delete_gate(self, model: str) -> GateInfo:
        return GateInfo.model_validate(self._t.call("evaluation.delete_gate", name=model))
