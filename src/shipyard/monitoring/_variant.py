"""One variant's window, accumulated batch by batch, and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.flavors import ModelSignature, Predictor
from shipyard.monitoring import _attribution, _estimate
from shipyard.monitoring._baseline import SAMPLE_ROWS, Baseline
from shipyard.monitoring._features import Feature
from shipyard.monitoring._summary import Current, Reference
from shipyard.monitoring.drift import choose
from shipyard.schemas.monitoring import FeatureDrift, QualityResult, VariantResult

DATASET_DRIFT_SHARE = 0.5


@dataclass
class Subject:
    """What a variant's window is compared with: its model version and its baseline."""

    variant: str
    model: str
    flavor: str
    signature: ModelSignature
    features: list[Feature]
    baseline: Baseline | None
    predictor: Predictor | None
    notes: list[str] = field(default_factory=list)


def _drift(name: str, current: Current) -> FeatureDrift:
    reference = current.reference
    method = choose(reference.kind, reference.rows)
    score = None
    drifted = False
    if current.present and reference.rows:
        result = method.score(reference.histogram, current.histogram())
        score, drifted = result.value, result.drifted
    return FeatureDrift(
        feature=name,
        kind="numeric" if reference.kind == "numeric" else "categorical",
        method=method.name,
        score=score,
        threshold=method.threshold,
        drifted=drifted,
        rule=method.rule,
        reference_rows=reference.rows,
        current_rows=current.present,
        missing_share=current.missing / current.rows if current.rows else 0.0,
        unseen_share=(current.unseen / current.present if current.present else 0.0)
        if reference.kind == "categorical"
        else None,
        bins=current.bars(),
    )


class VariantWindow:
    """Counts of one variant's rows in the window, on its baseline's bins."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        refs = subject.baseline.references if subject.baseline else {}
        self.current = {f.name: Current(refs[f.name]) for f in subject.features if f.name in refs}
        self.prediction: Current | None = None
        if subject.baseline is not None and subject.baseline.prediction is not None:
            self.prediction = Current(subject.baseline.prediction)
        self.requests = 0
        self.rows = 0
        self.input_rows = 0
        self.violations = 0
        self.probabilities: list[np.ndarray] = []
        self.samples: list[pa.Table] = []
        self._rng = np.random.default_rng(0)

    def add(self, flat: pa.Table) -> None:
        if not flat.num_rows:
            return
        self.rows += flat.num_rows
        self.requests += int(pc.sum(pc.equal(flat["row"], 0)).as_py() or 0)
        self.violations += int(pc.sum(flat["violations"]).as_py() or 0)
        inputs = flat.filter(flat["has_input"])
        self.input_rows += inputs.num_rows
        named = {}
        for k, feature in enumerate(self.subject.features):
            column = inputs.column(f"f{k}")
            named[feature.name] = column
            if feature.name in self.current:
                self.current[feature.name].add(column)
        if self.prediction is not None:
            predictions = flat["prediction"]
            if self.prediction.reference.kind == "numeric":
                predictions = pc.cast(predictions, pa.float64(), safe=False)
            self.prediction.add(predictions.drop_null())
        self._probabilities(flat["probabilities"])
        if inputs.num_rows and named:
            pick = np.sort(self._rng.permutation(inputs.num_rows)[:SAMPLE_ROWS])
            self.samples.append(pa.table(named).take(pa.array(pick)))

    def _probabilities(self, column: pa.ChunkedArray) -> None:
        present = column.drop_null()
        if not len(present):
            return
        lengths = pc.list_value_length(present).to_numpy(zero_copy_only=False)
        width = int(lengths[0])
        if width < 2 or not (lengths == width).all():
            return
        values = pc.list_flatten(present).to_numpy(zero_copy_only=False)
        self.probabilities.append(np.asarray(values, dtype=np.float64).reshape(-1, width))

    def sample(self) -> pa.Table | None:
        if not self.samples:
            return None
        table = pa.concat_tables(self.samples)
        pick = np.sort(self._rng.permutation(table.num_rows)[:SAMPLE_ROWS])
        return table.take(pa.array(pick))

    def result(self, kinds: list[str], quality: QualityResult | None) -> VariantResult:
        subject = self.subject
        result = VariantResult(
            variant=subject.variant,
            model=subject.model,
            baseline=subject.baseline.ref if subject.baseline else None,
            requests=self.requests,
            rows=self.rows,
            schema_violations=self.violations,
            notes=list(subject.notes),
        )
        if "data" in kinds:
            _data(result, self.current, len(subject.features), self.input_rows)
        if "prediction" in kinds and self.prediction is not None:
            result.prediction = _drift("prediction", self.prediction)
        if "quality" in kinds:
            result.quality = quality
        if "estimated" in kinds:
            result.estimated = self._estimated()
        if "attribution" in kinds:
            result.attribution = self._attribution()
        return result

    def _estimated(self) -> Any:
        if self.subject.signature.task != "classification":
            return _estimate.refused("performance is estimated for classifiers only")
        if not self.probabilities:
            reason = "the model gave no class probabilities" if self.rows else "no requests"
            return _estimate.refused(reason)
        return _estimate.estimate(np.concatenate(self.probabilities))

    def _attribution(self) -> Any:
        predictor, baseline = self.subject.predictor, self.subject.baseline
        if predictor is None or baseline is None or not hasattr(predictor, "contributions"):
            return _attribution.refused(f"no tree SHAP values for a {self.subject.flavor} model")
        window = self.sample()
        if window is None:
            return _attribution.refused("no captured inputs in this window")
        return _attribution.attribution_drift(predictor, baseline.sample, window)


def _data(result: VariantResult, current: dict[str, Current], width: int, rows: int) -> None:
    result.features = [_drift(name, c) for name, c in current.items()]
    scored = [f for f in result.features if f.score is not None]
    if scored:
        result.drift_share = sum(f.drifted for f in scored) / len(scored)
        result.dataset_drift = result.drift_share >= DATASET_DRIFT_SHARE
    missing = sum(c.missing for c in current.values())
    result.missing_share = missing / (rows * len(current)) if rows and current else None
    categorical = [c for c in current.values() if c.reference.kind == "categorical"]
    present = sum(c.present for c in categorical)
    result.unseen_share = sum(c.unseen for c in categorical) / present if present else None


def references_of(baseline: Baseline | None) -> dict[str, Reference]:
    return baseline.references if baseline else {}
