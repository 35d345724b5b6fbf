"""``log_model`` of own-code training: a fitted model in its flavor's safe format, stored.

The one place the job worker turns a user's model into ``model/model.bin`` and
``model/meta.json``; a general ``log_model`` for every framework can take its place.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.flavors._base import arrow_column_type
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META

StoredArtifacts = dict[str, tuple[str, int]]


def store_logged_model(
    platform: Platform,
    model: Any,
    *,
    input_example: Any = None,
    target: str = "target",
    task: str | None = None,
) -> StoredArtifacts:
    """Put the model's bytes and its meta in the blob store: artifact path -> (digest, size).

    The run records them when the job succeeds, so a stopped job registers no model.
    """
    flavor, data = save_model(model)
    signature = _signature(model, input_example, target, task)
    digest = platform.blobs.put_bytes(data)
    meta = orjson.dumps(
        {"flavor": flavor, "digest": digest, "signature": signature.model_dump(mode="json")}
    )
    return {
        MODEL_ARTIFACT: (digest, len(data)),
        MODEL_META: (platform.blobs.put_bytes(meta), len(meta)),
    }


def _signature(model: Any, example: Any, target: str, task: str | None) -> ModelSignature:
    classes = getattr(model, "classes_", None)
    if task is None:
        task = "classification" if classes is not None else "regression"
    if task not in ("classification", "regression"):
        raise InvalidInput("must be classification or regression", field="task")
    return ModelSignature(
        inputs=_inputs(model, example),
        task=task,
        target=target,
        classes=None if classes is None else [_plain(c) for c in classes],
    )


def _inputs(model: Any, example: Any) -> list[ColumnSpec]:
    if example is None:
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise InvalidInput(
                "give an input_example (a DataFrame or Arrow table of a few rows)",
                field="input_example",
            )
        return [ColumnSpec(name=str(n), type="float") for n in names]
    if isinstance(example, pa.Table):
        schema = example.schema
    else:
        try:
            schema = pa.Table.from_pandas(example, preserve_index=False).schema
        except (TypeError, ValueError, AttributeError) as error:
            raise InvalidInput(
                f"must be a DataFrame or Arrow table: {error}", field="input_example"
            ) from None
    columns = []
    for item in schema:
        kind = arrow_column_type(item.type)
        if kind is None:
            raise InvalidInput(
                f"column {item.name!r} has type {item.type}, which no model input takes",
                field="input_example",
            )
        columns.append(ColumnSpec(name=item.name, type=kind))
    return columns


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
