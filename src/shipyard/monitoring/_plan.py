"""What one window of a monitor computes: each variant's subject (model version, baseline),
the window read a capture file at a time, and the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.endpoints import find_endpoint, variants_of
from shipyard.flavors import ModelSignature
from shipyard.monitoring._baseline import (
    baseline_version,
    dataset_ref,
    features_of,
    load_baseline,
    loadable,
)
from shipyard.monitoring._metrics import result_metrics
from shipyard.monitoring._quality import labelled_rows, labels_since, pairs_by_variant, quality
from shipyard.monitoring._variant import Subject, VariantWindow
from shipyard.monitoring._window import flatten, read_window
from shipyard.monitoring.drift import describe_methods
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.schemas.monitoring import MonitorResult, QualityResult
from shipyard.store.metadata import monitor_tables as mt
from shipyard.store.metadata import tables as t


@dataclass(frozen=True)
class Plan:
    monitor_id: int
    name: str
    endpoint: str
    baseline: str | None
    kinds: list[str]


def plan_of(row: mt.Monitor) -> Plan:
    return Plan(row.id, row.name, row.endpoint, row.baseline, list(row.kinds))


def subjects(platform: Platform, plan: Plan) -> tuple[dict[str, Subject], str | None]:
    """Each variant's subject, and the main production variant (exported unsuffixed too)."""
    found: dict[str, Subject] = {}
    with platform.db.session() as session:
        endpoint = find_endpoint(session, plan.endpoint)
        variants = variants_of(session, endpoint.id)
        main = max(
            (v for v in variants if v.role == "production"), key=lambda v: v.weight, default=None
        )
        rows = []
        for variant in variants:
            version = session.get_one(t.ModelVersion, variant.model_version_id)
            model = session.get_one(t.Model, version.model_id)
            data = baseline_version(session, plan.baseline, version)
            rows.append(
                (
                    variant.name,
                    f"{model.name}@{version.version}",
                    version,
                    data,
                    dataset_ref(session, data),
                )
            )
        session.expunge_all()
    needs_model = {"prediction", "attribution"} & set(plan.kinds)
    for name, model_ref, version, data, ref in rows:
        signature = ModelSignature.model_validate(version.signature)
        predictor = None
        notes = []
        if needs_model and loadable(version.flavor):
            predictor = load_version_predictor(platform, version)
        elif needs_model:
            notes.append(f"{version.flavor} models run no code in the control plane")
        baseline = load_baseline(platform, ref, data, signature, predictor)
        if baseline.missing:
            notes.append(f"baseline {ref} lacks inputs: {', '.join(baseline.missing)}")
        found[name] = Subject(
            name,
            model_ref,
            version.flavor,
            signature,
            features_of(signature),
            baseline,
            predictor,
            notes,
        )
    return found, main.name if main else None


def compute(platform: Platform, plan: Plan, start: datetime, end: datetime) -> MonitorResult:
    """The result of ``[start, end)``: per variant drift, quality, estimates, attributions."""
    found, main = subjects(platform, plan)
    windows = {name: VariantWindow(subject) for name, subject in found.items()}
    labels = labels_since(platform, plan.endpoint, start) if "quality" in plan.kinds else {}
    labelled: list[pa.Table] = []
    for table in read_window(platform, plan.endpoint, start, end):
        if labels:
            labelled.append(labelled_rows(table, labels))
        for variant in pc.unique(table["variant"]).to_pylist():
            window = windows.get(variant)
            if window is None:
                continue
            part = table.filter(pc.equal(table["variant"], variant))
            window.add(flatten(part, window.subject.features))
    pairs = pairs_by_variant(labelled, labels)
    variants = []
    for name, window in windows.items():
        signature = window.subject.signature
        measured: QualityResult | None = None
        if name in pairs:
            measured = quality(signature.task, signature.classes, pairs[name])
        variants.append(window.result(plan.kinds, measured))
    return MonitorResult(
        monitor=plan.name,
        endpoint=plan.endpoint,
        window_start=start,
        window_end=end,
        kinds=plan.kinds,
        methods=describe_methods(),
        variants=variants,
        metrics=result_metrics(variants, main),
    )
