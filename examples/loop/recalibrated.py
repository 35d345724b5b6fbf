"""The bundled breast-cancer data as a recalibrated imaging device reads it (sizes 30% larger),
split into a labelled training file and a holdout, for the README's operations loop.

    python examples/loop/recalibrated.py    # writes fresh.csv and holdout.csv here
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from shipyard.cli._quickstart import write_breast_cancer_csv

SCALED = ("radius", "perimeter", "area")


def recalibrate(frame: pd.DataFrame) -> pd.DataFrame:
    """Every size measurement (radius, perimeter, area columns) reads 30% higher."""
    out = frame.copy()
    for column in out.columns:
        if any(word in column for word in SCALED):
            out[column] = out[column] * 1.3
    return out


def main(directory: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        original = pd.read_csv(write_breast_cancer_csv(Path(scratch) / "original.csv"))
    fresh = recalibrate(original).sample(frac=1.0, random_state=0)
    cut = int(len(fresh) * 0.7)
    fresh.iloc[:cut].to_csv(directory / "fresh.csv", index=False)
    fresh.iloc[cut:].to_csv(directory / "holdout.csv", index=False)
    print(f"wrote {directory / 'fresh.csv'} ({cut} rows) and {directory / 'holdout.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
