"""Edge bench: the ONNX form of a model against the native one, one row and 1k rows.

    python bench/edge.py            # 3 runs, medians
    python bench/edge.py --quick    # 1 run, fewer calls

Models: LightGBM (200 trees), XGBoost (200 trees, depth 6) and a scikit-learn
StandardScaler + LogisticRegression pipeline, 10 float features. Each is
registered, exported with ``export_model`` (parity checked on a seeded sample of
10,000 rows of its training dataset: these models come from no training job, so
they have no stored validation rows; the table says which data parity used), and
timed in this process on one thread through four paths: Shipyard's native
predictor (with its single-row fast paths), Shipyard's ONNX predictor (what a
runtime "onnx" endpoint variant serves), a bare onnxruntime session (what the
edge package's run.py uses), and the library's own ``predict_proba``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import onnxruntime
import sqlalchemy as sa
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from _scoring_setup import (
    FEATURES,
    register,
    register_dataset,
    train_lightgbm,
    write_numeric_dataset,
)
from shipyard.config import Settings
from shipyard.edge import export_model, latest_export, load_export_predictor
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.security import bootstrap, context_for
from shipyard.store.metadata import tables as t


def _latencies(call: Callable[[], object], calls: int) -> list[float]:
    for _ in range(min(50, calls)):
        call()
    spent = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


def _session(data: bytes) -> Any:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _paths(platform: Platform, name: str, estimator: Any) -> dict[str, Callable[[np.ndarray], Any]]:
    with platform.db.session() as session:
        version = session.scalar(
            sa.select(t.ModelVersion.id)
            .join(t.Model, t.Model.id == t.ModelVersion.model_id)
            .where(t.Model.name == name)
        )
        row = session.get(t.ModelVersion, version)
        export = latest_export(session, version)
    assert row is not None and export is not None
    if "n_jobs" in estimator.get_params():
        estimator.set_params(n_jobs=1)
    native = load_version_predictor(platform, row)
    onnx = load_export_predictor(platform, export)
    session = _session(platform.blobs.get_bytes(export.digest))
    feed = onnx.layout.matrix  # type: ignore[attr-defined]
    dtype = onnx.layout.dtypes[feed]  # type: ignore[attr-defined]

    def bare(x: np.ndarray) -> Any:
        return session.run(["probabilities"], {feed: x.astype(dtype)})

    return {
        "Shipyard native predictor": native.predict,
        "Shipyard ONNX predictor": onnx.predict,
        "onnxruntime session (run.py)": bare,
        "library predict_proba": estimator.predict_proba,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, fewer calls")
    args = parser.parse_args()
    runs, single_calls, batch_calls = (1, 300, 10) if args.quick else (3, 2000, 50)
    rng = np.random.default_rng(11)
    rows = rng.normal(size=(1000, FEATURES))
    results: list[tuple[str, str, float, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-edge-") as tmp:
        platform = Platform.open(Settings(home=Path(tmp) / "home"))
        bootstrap(platform)
        data = Path(tmp) / "rows.parquet"
        write_numeric_dataset(data, 20_000)
        dataset = register_dataset(platform, "rows", data)
        x = rng.normal(size=(20_000, FEATURES))
        booster = train_lightgbm(200, 20_000)
        y = booster.predict(x)
        models: dict[str, Any] = {
            "LightGBM 200 trees": booster,
            "XGBoost 200 trees": XGBClassifier(n_estimators=200, max_depth=6, n_jobs=1).fit(x, y),
            "sklearn scaler+LR": Pipeline(
                [("scale", StandardScaler()), ("model", LogisticRegression())]
            ).fit(x, y),
        }
        ctx = context_for(platform, "admin")
        for label, estimator in models.items():
            name = label.split()[0].lower()
            register(platform, name, estimator, dataset)
            info = export_model(ctx, f"{name}@1")
            parity = (
                f"{info.parity['exported']['max_abs_diff']:.1e} ({info.precision}; "
                f"{info.parity['rows']:,} rows, {info.parity['data']})"
            )
            for path, predict in _paths(platform, name, estimator).items():
                singles, batches = [], []
                for _ in range(runs):
                    one = _latencies(lambda p=predict: p(rows[:1]), single_calls)
                    singles.append((statistics.median(one), float(np.quantile(one, 0.99))))
                    batches.append(
                        statistics.median(_latencies(lambda p=predict: p(rows), batch_calls))
                    )
                p50 = statistics.median(s[0] for s in singles) * 1e6
                p99 = statistics.median(s[1] for s in singles) * 1e6
                results.append((label, path, p50, p99, statistics.median(batches) * 1e3, parity))
        platform.close()
    print(f"\nEdge: ONNX against native, one thread, median of {runs} run(s)\n")
    print("| model | path | 1 row p50 µs | 1 row p99 µs | 1k rows ms | ONNX parity: max abs diff |")
    print("|---|---|---:|---:|---:|---:|")
    for label, path, p50, p99, batch, parity in results:
        print(f"| {label} | {path} | {p50:,.0f} | {p99:,.0f} | {batch:,.2f} | {parity} |")


if __name__ == "__main__":
    main()
