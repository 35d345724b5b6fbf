"""Worker: Evidently's DataDriftPreset on the bench's flat window; prints JSON."""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    directory = Path(sys.argv[1])
    reference = pd.read_parquet(directory / "reference.parquet")
    current = pd.read_parquet(directory / "current.parquet")
    numeric = [c for c in reference.columns if c.startswith("n")]
    categorical = [c for c in reference.columns if c.startswith("c")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    results = snapshot.dict()
    wall = time.perf_counter() - started
    drifted = sorted(
        m["config"]["column"]
        for m in results["metrics"]
        if m["config"].get("type", "").endswith("ValueDrift")
        and m["value"] >= m["config"].get("threshold", 0.1)
    )
    print(
        json.dumps(
            {
                "tool": f"Evidently {evidently.__version__}",
                "wall": wall,
                "peak_mb": peak_mb(),
                "drifted": drifted,
            }
        )
    )


if __name__ == "__main__":
    main()
