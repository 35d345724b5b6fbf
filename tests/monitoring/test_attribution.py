"""Tree SHAP attributions from both tree flavors, and the ranking drift score on them."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xgboost

from shipyard.flavors import ColumnSpec, ModelSignature, artifact_digest, load_predictor, save_model
from shipyard.monitoring._attribution import attribution_drift, importances, ndcg

SIGNATURE = ModelSignature(
    inputs=[ColumnSpec(name=n, type="float") for n in ("a", "b", "c")],
    task="classification",
    target="y",
    classes=[0, 1],
)


def _data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["a", "b", "c"])
    label = (3 * frame["a"] + frame["b"] + 0.2 * frame["c"] + rng.normal(size=rows) > 0).astype(int)
    return frame, label.to_numpy()


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_attributions_rank_the_features_the_model_uses(library: str) -> None:
    frame, label = _data(2000, 0)
    if library == "lightgbm":
        model = lightgbm.LGBMClassifier(n_estimators=30, verbose=-1).fit(frame, label)
    else:
        model = xgboost.XGBClassifier(n_estimators=30, max_depth=3).fit(frame, label)
    flavor, data = save_model(model)
    predictor = load_predictor(flavor, data, SIGNATURE, expected_digest=artifact_digest(data))
    baseline = pa.Table.from_pandas(frame.head(500), preserve_index=False)
    found = importances(predictor, baseline)
    assert sorted(found, key=lambda n: -found[n]) == ["a", "b", "c"]

    same = attribution_drift(predictor, baseline, pa.Table.from_pandas(_data(500, 1)[0]))
    assert same.score == pytest.approx(0.0) and not same.drifted
    stuck = _data(500, 2)[0].assign(a=0.0, c=lambda f: f["c"] * 30)
    moved = attribution_drift(predictor, baseline, pa.Table.from_pandas(stuck))
    assert moved.drifted and moved.score is not None and moved.score > moved.threshold


def test_ndcg_is_one_for_the_same_order_and_lower_for_a_swap() -> None:
    base = {"a": 3.0, "b": 1.0, "c": 0.2}
    assert ndcg(base, {"a": 9.0, "b": 2.0, "c": 1.0}) == pytest.approx(1.0)
    assert ndcg(base, {"a": 0.0, "b": 2.0, "c": 1.0}) < 0.9
