"""Worker: NannyML's CBPE (accuracy, ROC AUC) on the bench's scores; prints JSON."""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path

import nannyml
import pandas as pd


def main() -> None:
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    directory = Path(sys.argv[1])
    reference = pd.read_parquet(directory / "reference-scores.parquet")
    analysis = pd.read_parquet(directory / "current-scores.parquet")
    for frame in (reference, analysis):
        frame["predicted"] = (frame["positive"] > 0.5).astype(int)
    started = time.perf_counter()
    estimator = nannyml.CBPE(
        y_pred_proba="positive",
        y_pred="predicted",
        y_true="label",
        metrics=["accuracy", "roc_auc"],
        problem_type="classification_binary",
        chunk_number=1,
    )
    estimator.fit(reference)
    result = estimator.estimate(analysis).filter(period="analysis").to_df()
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "tool": f"NannyML {nannyml.__version__}",
                "wall": wall,
                "estimated": {
                    m: float(result[(m, "value")].iloc[0]) for m in ("accuracy", "roc_auc")
                },
            }
        )
    )


if __name__ == "__main__":
    main()
