"""Worker: Evidently's DataDriftPreset on the bench files; prints JSON timings."""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    reference_path, current_path = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    started = time.perf_counter()
    reference, current = pd.read_parquet(reference_path), pd.read_parquet(current_path)
    load = time.perf_counter() - started
    numeric = [c for c in reference.columns if c.startswith("n")]
    categorical = [c for c in reference.columns if c.startswith("c")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current.head(1000), data_definition=definition),
        Dataset.from_pandas(reference.head(1000), data_definition=definition),
    ).dict()
    computes, renders = [], []
    drifted: list[str] = []
    for _ in range(repeats):
        started = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        results = snapshot.dict()
        computes.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            snapshot.save_html(str(Path(tmp) / "report.html"))
        renders.append(time.perf_counter() - started)
        drifted = sorted(
            m["config"]["column"]
            for m in results["metrics"]
            if m["config"].get("type", "").endswith("ValueDrift")
            and m["value"] >= m["config"].get("threshold", 0.1)
        )
    print(
        json.dumps(
            {
                "tool": f"Evidently {evidently.__version__} (pandas {pd.__version__})",
                "load": load,
                "compute": statistics.median(computes),
                "report": statistics.median(renders),
                "drifted": drifted,
            }
        )
    )


if __name__ == "__main__":
    main()
