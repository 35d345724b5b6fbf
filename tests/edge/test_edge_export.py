"""Edge export: ONNX conversion, parity against the original, packages, and the ONNX flavor."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import xgboost
from edgekit import ingest_frame, register_fitted, signature_of
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from shipyard.datasets import DatasetVersionInfo
from shipyard.edge import (
    export_model,
    get_package,
    latest_export,
    list_exports,
    load_export_predictor,
    read_archive,
    write_package,
)
from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.security import context_for
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import tables as t

FEATURES = [f"f{i}" for i in range(5)]


def _classifiers(frame: pd.DataFrame) -> dict[str, Any]:
    x_, y = frame[FEATURES].to_numpy(), frame["y"]
    return {
        "lightgbm": lightgbm.LGBMClassifier(n_estimators=25, num_leaves=7, verbose=-1).fit(x_, y),
        "xgboost": xgboost.XGBClassifier(n_estimators=25, max_depth=3).fit(x_, y),
        "sklearn": Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(
            x_, y
        ),
    }


def _version_row(platform: Platform, name: str) -> t.ModelVersion:
    with platform.db.session() as session:
        row = session.scalar(
            sa.select(t.ModelVersion.id)
            .join(t.Model, t.Model.id == t.ModelVersion.model_id)
            .where(t.Model.name == name)
        )
        version = session.get(t.ModelVersion, row)
        assert version is not None
        return version


@pytest.mark.parametrize("library", ["lightgbm", "xgboost", "sklearn"])
def test_export_matches_the_original_and_is_served_as_onnx(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame, library: str
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    model = _classifiers(frame)[library]
    register_fitted(sqlite_platform, "m", model, signature_of(frame, "y", [0, 1]), dataset)

    info = export_model(ctx, "m@1")

    exported = info.parity["exported"]
    assert info.parity["data"] == exported["data"] == "training-sample"  # no stored validation
    assert exported["rows"] == 1500 and "numbers@1" in exported["source"]
    assert 0 <= exported["max_abs_diff"] <= 1e-4 and exported["labels_agree"] == 1.0
    assert info.precision == ("float64" if library == "sklearn" else "float32")
    assert [e.id for e in list_exports(ctx, "m@1")] == [info.id]
    version = _version_row(sqlite_platform, "m")
    with sqlite_platform.db.session() as session:
        record = latest_export(session, version.id)
        assert record is not None and record.digest == info.digest
    served = load_export_predictor(sqlite_platform, record)
    native = load_version_predictor(sqlite_platform, version)
    rows = frame[FEATURES].to_numpy()[:50]
    assert served.fast_path and served.accepts_ndarray
    for one in rows[:5]:
        single = served.predict(one.reshape(1, -1))
        assert single.probabilities is not None and single.probabilities.shape == (1, 2)
    batch, expected = served.predict(rows), native.predict(rows)
    assert batch.probabilities is not None and expected.probabilities is not None
    np.testing.assert_array_equal(batch.predictions, expected.predictions)
    np.testing.assert_allclose(batch.probabilities, expected.probabilities, atol=1e-4)


def test_package_runs_with_only_onnxruntime_and_numpy(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame, tmp_path: Path
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    model = _classifiers(frame)["lightgbm"]
    register_fitted(sqlite_platform, "m", model, signature_of(frame, "y", [0, 1]), dataset)
    info = export_model(ctx, "m@1")
    archive = get_package(ctx, info.id)
    package = write_package(read_archive(archive), tmp_path / "package")
    assert sorted(p.name for p in package.iterdir()) == [
        "manifest.json",
        "model.onnx",
        "run.py",
        "signature.json",
    ]
    manifest = json.loads((package / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "run.py", "signature.json"}
    assert manifest["model"] == "m@1" and manifest["source_flavor"] == "lightgbm"
    rows = frame[FEATURES].head(20)
    (tmp_path / "rows.csv").write_text(rows.to_csv(index=False))
    (tmp_path / "rows.json").write_text(json.dumps(rows.to_dict(orient="records")))
    probe = (
        "import json, runpy, sys\n"
        "sys.argv = ['run.py', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0] if False else RUN, run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules}"
        " & {'sklearn', 'lightgbm', 'xgboost', 'shipyard', 'pandas', 'skl2onnx', 'onnx'})\n"
        "print('MODULES ' + json.dumps(heavy), file=sys.stderr)\n"
    ).replace("RUN", repr(str(package / "run.py")))
    expected = load_version_predictor(sqlite_platform, _version_row(sqlite_platform, "m")).predict(
        rows.to_numpy()
    )
    assert expected.probabilities is not None
    for rows_file in ("rows.csv", "rows.json"):
        result = subprocess.run(
            [sys.executable, "-I", "-c", probe, str(tmp_path / rows_file)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", "")},
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "MODULES []" in result.stderr
        answers = [json.loads(line) for line in result.stdout.splitlines()]
        assert [a["prediction"] for a in answers] == expected.predictions.tolist()
        probabilities = np.array(
            [[a["probabilities"]["0"], a["probabilities"]["1"]] for a in answers]
        )
        np.testing.assert_allclose(probabilities, expected.probabilities, atol=1e-4)

    (package / "model.onnx").write_bytes((package / "model.onnx").read_bytes() + b"\x00")
    tampered = subprocess.run(
        [sys.executable, str(package / "run.py"), str(tmp_path / "rows.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert tampered.returncode == 1 and "does not match its digest" in tampered.stderr


def test_string_columns_and_regression_export(
    sqlite_platform: Platform, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    mixed = frame.assign(colour=np.where(frame["f3"] > 0, "red", "blue"))
    dataset = ingest_frame(sqlite_platform, "mixed", mixed)
    features = mixed.drop(columns="y")
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["colour"])],
        remainder="passthrough",
    )
    pipeline = Pipeline([("encode", encode), ("model", LogisticRegression())])
    pipeline.fit(features, mixed["y"])
    register_fitted(sqlite_platform, "mixed", pipeline, signature_of(mixed, "y", [0, 1]), dataset)
    mixed_info = export_model(ctx, "mixed@1")
    assert mixed_info.parity["exported"]["max_abs_diff"] <= 1e-4
    with sqlite_platform.db.session() as session:
        record = session.get(x.ModelExport, mixed_info.id)
        assert record is not None
    served = load_export_predictor(sqlite_platform, record)
    assert not served.accepts_ndarray
    row = features.head(1).assign(colour="never seen")
    assert served.predict(row).predictions.shape == (1,)

    regressor = RandomForestRegressor(n_estimators=10, random_state=0)
    regressor.fit(frame[FEATURES[1:]].to_numpy(), frame["f0"])
    target = frame.drop(columns="y")
    signature = signature_of(target, "f0", None)
    other = ingest_frame(sqlite_platform, "target", target)
    register_fitted(sqlite_platform, "forest", regressor, signature, other)
    forest = export_model(ctx, "forest@1")
    assert forest.parity["exported"]["compared"] == "predictions"
    assert forest.parity["exported"]["max_abs_diff"] <= 1e-4


def test_unconvertible_models_are_named(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("boost", HistGradientBoostingClassifier(max_iter=5))]
    ).fit(frame[FEATURES].to_numpy(), frame["y"])
    register_fitted(sqlite_platform, "hgb", pipeline, signature_of(frame, "y", [0, 1]), dataset)
    with pytest.raises(InvalidInput, match=r"step 'boost' \(HistGradientBoostingClassifier\)"):
        export_model(ctx, "hgb@1")

    mixed = frame.assign(colour=np.where(frame["f3"] > 0, "red", "blue"))
    coded = mixed.drop(columns="y").assign(colour=lambda f: f["colour"].astype("category"))
    booster = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(coded, mixed["y"])
    mixed_set = ingest_frame(sqlite_platform, "mixed", mixed)
    register_fitted(sqlite_platform, "cat", booster, signature_of(mixed, "y", [0, 1]), mixed_set)
    with pytest.raises(InvalidInput, match=r"categorical string inputs \['colour'\]"):
        export_model(ctx, "cat@1")
    with sqlite_platform.db.session() as session:
        assert session.query(x.ModelExport).count() == 0


def test_parity_beyond_tolerance_fails_and_records_nothing(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    model = _classifiers(frame)["lightgbm"]
    register_fitted(sqlite_platform, "m", model, signature_of(frame, "y", [0, 1]), dataset)
    with pytest.raises(InvalidInput, match="beyond the tolerance 1e-15") as caught:
        export_model(ctx, "m@1", tolerance=1e-15)
    assert caught.value.field == "tolerance"
    with pytest.raises(InvalidInput) as bad:
        export_model(ctx, "m@1", tolerance=-1)
    assert bad.value.field == "tolerance"
    with pytest.raises(InvalidInput) as unknown:
        export_model(ctx, "m@1", format="tflite")
    assert unknown.value.field == "format"
    assert list_exports(ctx, "m@1") == []


def test_quantization_shrinks_matmul_weights_within_its_tolerance(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("pca", PCA(4)), ("model", LogisticRegression())]
    ).fit(frame[FEATURES].to_numpy(), frame["y"])
    register_fitted(sqlite_platform, "pca", pipeline, signature_of(frame, "y", [0, 1]), dataset)
    info = export_model(ctx, "pca@1", quantize=True, quantized_tolerance=0.1)
    assert info.quantized and info.precision == "float32"
    assert 0 < info.parity["quantized"]["max_abs_diff"] <= 0.1
    with pytest.raises(InvalidInput, match="quantized ONNX model") as caught:
        export_model(ctx, "pca@1", quantize=True, quantized_tolerance=1e-9)
    assert caught.value.field == "quantized_tolerance"

    trees = _classifiers(frame)["lightgbm"]
    register_fitted(sqlite_platform, "trees", trees, signature_of(frame, "y", [0, 1]), dataset)
    unchanged = export_model(ctx, "trees@1", quantize=True)
    assert not unchanged.quantized and "no MatMul" in unchanged.parity["quantization"]


def _archive(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link is not None:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return raw.getvalue()


def test_hostile_or_tampered_archives_are_refused(
    sqlite_platform: Platform, dataset: DatasetVersionInfo, frame: pd.DataFrame, tmp_path: Path
) -> None:
    ctx = context_for(sqlite_platform, "admin")
    register_fitted(
        sqlite_platform,
        "m",
        _classifiers(frame)["sklearn"],
        signature_of(frame, "y", [0, 1]),
        dataset,
    )
    files = read_archive(get_package(ctx, export_model(ctx, "m@1").id))
    with pytest.raises(UnsafeArtifact, match="not a plain file name"):
        read_archive(_archive({**files, "../escape.py": b"print('x')"}))
    with pytest.raises(UnsafeArtifact, match="not a regular file"):
        read_archive(_archive(files, link="run.py.link"))
    with pytest.raises(IntegrityError, match=r"run\.py does not match"):
        read_archive(_archive({**files, "run.py": b"import os\n"}))
    with pytest.raises(IntegrityError, match=r"differ from the manifest"):
        read_archive(_archive({**files, "extra.txt": b"hi"}))
    with pytest.raises(InvalidInput, match=r"tar\.gz"):
        read_archive(b"not an archive")
    assert not (tmp_path / "escape.py").exists()
