"""A platform with a small dataset for job tests, and own-code training scripts."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_breast_cancer

from shipyard.datasets import ingest
from shipyard.platform import Platform
from shipyard.security import ADMIN, context_for


def bc_parquet() -> bytes:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, -6:]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


@pytest.fixture
def data_platform(platform: Platform) -> Platform:
    """The platform with dataset ``bc`` version 1 (five features and ``target``)."""
    ingest(context_for(platform, ADMIN), "bc", bc_parquet(), "bc.parquet")
    return platform


def write_code(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text))
    return directory


TRAIN = """
from sklearn.linear_model import LogisticRegression
from helpers import features


def main(context):
    frame = context.frame()
    x, y = features(frame), frame["target"]
    model = LogisticRegression(max_iter=int(context.params["max_iter"]))
    model.fit(x.to_numpy(), y)
    context.run.log_metric("accuracy", float(model.score(x.to_numpy(), y)))
    context.log_model(model, input_example=x.head(5))
"""

HELPERS = """
def features(frame):
    return frame.drop(columns=["target"])
"""

# Starts a grandchild, records both pids, then waits to be stopped.
SLEEPER = """
import os, subprocess, time
from pathlib import Path


def main(context):
    child = subprocess.Popen(["sleep", "300"])
    out = Path(context.params["out"])
    out.write_text(f"{os.getpid()} {child.pid}")
    while True:
        time.sleep(0.05)
"""
