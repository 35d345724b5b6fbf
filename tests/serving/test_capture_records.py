"""Captured records become one Arrow table per UTC hour, with JSON input and output columns."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd

from shipyard.flavors import ColumnSpec, ModelSignature, Prediction, Predictor
from shipyard.serving import ModelSlot, capture_schema
from shipyard.serving._capture import CaptureBuffer, capture_tables


class _Fixed(Predictor):
    flavor = "sklearn"

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        return Prediction(np.array(["ripe"] * len(features), dtype=object))


def test_mixed_columns_capture_as_json_per_hour() -> None:
    signature = ModelSignature(
        inputs=[
            ColumnSpec(name="color", type="string"),
            ColumnSpec(name="seeds", type="integer"),
            ColumnSpec(name="organic", type="boolean"),
        ],
        task="classification",
        target="ripe",
        classes=["ripe", "raw"],
    )
    slot = ModelSlot("fruit", 4, _Fixed(None, signature))
    frame = pd.DataFrame(
        {"color": ["red", "green"], "seeds": np.array([3, 0]), "organic": np.array([True, False])}
    )
    buffer = CaptureBuffer(capacity=2)
    for mode in ("both", "input", "output"):
        buffer.offer("r-" + mode, "primary", slot, frame, slot.predict(frame), mode)
    assert len(buffer) == 2 and buffer.dropped == 1
    records = buffer.drain()
    records[1] = type(records[1])(**{**records[1].__dict__, "time": records[0].time + 3600})
    tables = capture_tables(records)
    assert len(tables) == 2
    first, second = (t.to_pylist()[0] for t in tables.values())
    assert all(t.schema.equals(capture_schema()) for t in tables.values())
    assert orjson.loads(first["input"]) == {
        "columns": ["color", "seeds", "organic"],
        "data": [["red", 3, True], ["green", 0, False]],
    }
    assert orjson.loads(first["output"]) == {"prediction": ["ripe", "ripe"], "probabilities": None}
    assert first["model_version"] == 4 and second["output"] is None
