"""Model quality of one window per variant: captured predictions joined with feedback labels
on request id. A label posted late still counts in its request's window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from shipyard.endpoints._quality import as_number, normalize_label
from shipyard.monitoring._window import flatten, read_window
from shipyard.platform import Platform
from shipyard.schemas.monitoring import QualityResult
from shipyard.store.metadata import endpoint_tables as et


def labels_since(platform: Platform, endpoint: str, since: datetime) -> dict[str, Any]:
    """Labels received from ``since`` on (a label comes after its request)."""
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(et.Feedback.request_id, et.Feedback.label).where(
                et.Feedback.endpoint == endpoint, et.Feedback.received_at >= since
            )
        )
        return {request_id: label for request_id, label in rows}


def labelled_rows(table: pa.Table, labels: dict[str, Any]) -> pa.Table:
    """The raw capture rows whose request has a label."""
    if not labels or not table.num_rows:
        return table.schema.empty_table()  # a slice would keep the whole file's buffers
    wanted = pa.array(list(labels), pa.string())
    return table.filter(pc.is_in(table["request_id"], value_set=wanted))


def pairs_by_variant(
    raw: list[pa.Table], labels: dict[str, Any]
) -> dict[str, tuple[list[Any], list[Any], list[Any]]]:
    """variant -> (predictions, labels, probabilities) of labelled rows."""
    found: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}
    for table in raw:
        if not table.num_rows:
            continue
        flat = flatten(table, [])
        for request_id, variant, row, prediction, probabilities in zip(
            *(
                flat[c].to_pylist()
                for c in ("request_id", "variant", "row", "prediction", "probabilities")
            ),
            strict=True,
        ):
            label = labels.get(request_id)
            if isinstance(label, list):
                label = label[row] if row < len(label) else None
            if label is None or prediction is None:
                continue
            predictions, truths, probs = found.setdefault(variant, ([], [], []))
            predictions.append(prediction)
            truths.append(label)
            probs.append(probabilities)
    return found


def quality(
    task: str, classes: list[Any] | None, pairs: tuple[list[Any], list[Any], list[Any]]
) -> QualityResult | None:
    predictions, truths, probabilities = pairs
    if not predictions:
        return None
    if task == "classification":
        hits = [
            normalize_label(p) == normalize_label(y)
            for p, y in zip(predictions, truths, strict=True)
        ]
        others: dict[str, float] = {}
        auc = _auc(classes, truths, probabilities)
        if auc is not None:
            others["roc_auc"] = auc
        return QualityResult(
            metric="accuracy", value=float(np.mean(hits)), labelled=len(hits), others=others
        )
    pairs_ok = [(as_number(p), as_number(y)) for p, y in zip(predictions, truths, strict=True)]
    errors = np.array([p - y for p, y in pairs_ok if p is not None and y is not None])
    if not len(errors):
        return None
    return QualityResult(
        metric="rmse",
        value=float(np.sqrt(np.mean(errors**2))),
        labelled=len(errors),
        others={"mae": float(np.mean(np.abs(errors)))},
    )


def _auc(classes: list[Any] | None, truths: list[Any], probabilities: list[Any]) -> float | None:
    if not classes or len(classes) != 2 or any(p is None or len(p) != 2 for p in probabilities):
        return None
    positive = normalize_label(classes[1])
    y = np.array([normalize_label(v) == positive for v in truths])
    if y.all() or not y.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, np.array([p[1] for p in probabilities])))


def window_quality(
    platform: Platform,
    endpoint: str,
    start: datetime,
    end: datetime,
    task: str,
    classes: list[Any] | None,
) -> dict[str, QualityResult]:
    """Quality per variant of an earlier window, with every label known now."""
    labels = labels_since(platform, endpoint, start)
    raw = [labelled_rows(table, labels) for table in read_window(platform, endpoint, start, end)]
    results = {}
    for variant, pairs in pairs_by_variant(raw, labels).items():
        result = quality(task, classes, pairs)
        if result is not None:
            results[variant] = result
    return results
