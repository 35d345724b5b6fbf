"""Edge export from the SDK (in-process and HTTP) and from the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import lightgbm
import pandas as pd
import pytest
from edgekit import ingest_frame, register_fitted, signature_of
from tests.cli.inprocess import run

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import bootstrap

FEATURES = [f"f{i}" for i in range(5)]


def _register(platform: Platform, frame: pd.DataFrame) -> None:
    dataset = ingest_frame(platform, "numbers", frame)
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1)
    model.fit(frame[FEATURES].to_numpy(), frame["y"])
    register_fitted(platform, "m", model, signature_of(frame, "y", [0, 1]), dataset)


def test_sdk_exports_into_a_directory(
    client: Client, platform: Platform, frame: pd.DataFrame, tmp_path: Path
) -> None:
    _register(platform, frame)
    info = client.edge.export("m@1", tmp_path / "package", archive=True)

    onnx_bytes = (tmp_path / "package" / "model.onnx").read_bytes()
    assert "sha256:" + hashlib.sha256(onnx_bytes).hexdigest() == info.digest
    archive = tmp_path / "package.tar.gz"
    assert "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest() == info.package_digest
    copy = client.edge.import_package(archive, tmp_path / "copy")
    assert (copy / "model.onnx").read_bytes() == onnx_bytes
    assert [e.id for e in client.edge.list("m@1")] == [info.id]
    assert client.edge.get(info.id).parity == info.parity
    with pytest.raises(InvalidInput) as bad:
        client.edge.export("m@1", tolerance=0)
    assert bad.value.field == "tolerance"
    with pytest.raises(NotFound):
        client.edge.get("0" * 32)


def test_sdk_checks_parity_on_a_named_dataset(
    client: Client, platform: Platform, frame: pd.DataFrame
) -> None:
    _register(platform, frame)
    ingest_frame(platform, "other", frame.head(700))
    ingest_frame(platform, "narrow", frame[["f0", "f1", "y"]])

    info = client.edge.export("m@1", parity_data="other@1")

    assert info.parity["data"] == "dataset" and info.parity["rows"] == 700
    assert info.parity["exported"]["source"] == "dataset other@1"
    assert client.edge.export("m@1").parity["data"] == "training-sample"
    with pytest.raises(InvalidInput, match=r"missing input columns \['f2', 'f3', 'f4'\]") as bad:
        client.edge.export("m@1", parity_data="narrow@1")
    assert bad.value.field == "parity_data"
    assert len(client.edge.list("m@1")) == 2


def _shipyard(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    return run(env, *args)


def test_cli_exports_and_imports_a_package(frame: pd.DataFrame, tmp_path: Path) -> None:
    home = tmp_path / "home"
    platform = Platform.open(Settings(home=home))
    bootstrap(platform)
    _register(platform, frame)
    platform.close()
    out = tmp_path / "edge"

    exported = _shipyard(home, "export-edge", "m@1", "--out", str(out), "--archive")
    assert exported.returncode == 0, exported.stderr
    assert "max |diff|" in exported.stdout and "run.py" in exported.stdout
    assert "parity data" in exported.stdout and "training-sample: 1500 rows" in exported.stdout
    imported = _shipyard(home, "import-edge", f"{out}.tar.gz", "--out", str(tmp_path / "copy"))
    assert imported.returncode == 0, imported.stderr
    assert (tmp_path / "copy" / "run.py").read_bytes() == (out / "run.py").read_bytes()

    named = _shipyard(
        home, "export-edge", "m@1", "--out", str(tmp_path / "e2"), "--parity-data", "numbers@1"
    )
    assert named.returncode == 0, named.stderr
    assert "dataset: 1500 rows of dataset numbers@1" in named.stdout
    wrong = _shipyard(
        home, "export-edge", "m@1", "--out", str(tmp_path / "e3"), "--parity-data", "nope@1"
    )
    assert wrong.returncode != 0 and "nope" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert not (tmp_path / "e3").exists()
