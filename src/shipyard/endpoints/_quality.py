"""Ground truth joined with captured predictions: (prediction, label) pairs per variant.

Capture files are Parquet blobs written by the serving workers with the columns
``request_id`` (string), ``time`` (timestamp), ``variant`` (string),
``model_version`` (int), ``input`` (JSON string) and ``output`` (JSON string of
``{"prediction": ..., "probabilities": [...]}``). A label refers to a request:
a scalar for a one-row request, a list in row order for a multi-row one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from shipyard.platform import Platform
from shipyard.store.metadata import endpoint_tables as et

_NEEDED = ("request_id", "variant", "output")


@dataclass
class LabelledPairs:
    """Per variant, the (prediction, label) pairs of requests that have both."""

    pairs: dict[str, list[tuple[Any, Any]]] = field(default_factory=dict)
    labelled: int = 0
    matched: int = 0


def feedback_labels(platform: Platform, endpoint: str) -> dict[str, Any]:
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(et.Feedback.request_id, et.Feedback.label).where(
                et.Feedback.endpoint == endpoint
            )
        )
        return {request_id: label for request_id, label in rows}


def _capture_digests(platform: Platform, endpoint: str, since_hour: str | None) -> list[str]:
    query = sa.select(et.CaptureFile.digest).where(et.CaptureFile.endpoint == endpoint)
    if since_hour is not None:
        query = query.where(et.CaptureFile.hour >= since_hour)
    with platform.db.session() as session:
        return list(session.scalars(query.order_by(et.CaptureFile.hour, et.CaptureFile.id)))


def _captured_predictions(
    platform: Platform, digests: list[str], wanted: set[str]
) -> dict[tuple[str, str], list[Any]]:
    """(request id, variant) -> predictions in capture order, for the wanted request ids."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    value_set = pa.array(sorted(wanted), type=pa.string())
    found: dict[tuple[str, str], list[Any]] = {}
    for digest in digests:
        source = pq.ParquetFile(io.BytesIO(platform.blobs.get_bytes(digest)))
        if not set(_NEEDED) <= set(source.schema_arrow.names):
            continue
        table = source.read(columns=list(_NEEDED))
        table = table.filter(pc.is_in(table["request_id"], value_set=value_set))
        for request_id, variant, output in zip(
            *(table[c].to_pylist() for c in _NEEDED), strict=True
        ):
            prediction = _prediction(output)
            if prediction is not None:
                found.setdefault((request_id, variant), []).extend(
                    prediction if isinstance(prediction, list) else [prediction]
                )
    return found


def _prediction(output: str | None) -> Any:
    if not output:
        return None
    try:
        document = orjson.loads(output)
    except orjson.JSONDecodeError:
        return None
    return document.get("prediction") if isinstance(document, dict) else None


def labelled_pairs(platform: Platform, endpoint: str, since_hour: str | None) -> LabelledPairs:
    """Join the endpoint's feedback labels with its captured predictions."""
    labels = feedback_labels(platform, endpoint)
    result = LabelledPairs(labelled=len(labels))
    if not labels:
        return result
    captured = _captured_predictions(
        platform, _capture_digests(platform, endpoint, since_hour), set(labels)
    )
    matched: set[str] = set()
    for (request_id, variant), predictions in captured.items():
        label = labels[request_id]
        expected = label if isinstance(label, list) else [label]
        if len(expected) != len(predictions):
            continue
        matched.add(request_id)
        result.pairs.setdefault(variant, []).extend(zip(predictions, expected, strict=True))
    result.matched = len(matched)
    return result


def normalize_label(value: Any) -> Any:
    """Labels compared across JSON types: True == 1 == 1.0 == "1"; other strings as they are."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, int | float) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return value


def as_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
