"""``evaluate`` through the SDK (in-process and over HTTP): metrics as scikit-learn computes
them on the same data, intervals around them, and one self-contained HTML report."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as sk
from tests.evaluation import kit

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound


class _Page(HTMLParser):
    """Tags, ids and attribute values of a page, to check what it holds and links to."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.values: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            self.values.append(f"{name}={value}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(html: bytes) -> _Page:
    page = _Page()
    page.feed(html.decode())
    page.close()
    return page


def _self_contained(page: _Page) -> None:
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert not [v for v in page.values if v.startswith(("src=", "href="))]


def test_classification_report_matches_scikit_learn(client: Client, tmp_path: Path) -> None:
    frame = kit.cancer_frame()
    data = kit.ingest(client, tmp_path, frame, "cancer-data")
    model, columns = kit.fit_classifier(frame, "label", 5)
    version = kit.register(client, tmp_path, "cancer", model, columns, "label")
    info = client.evaluations.evaluate(f"cancer@{version}", data, resamples=300, seed=3)

    features, labels = frame[columns].to_numpy(), frame["label"].to_numpy()
    predicted, scores = model.predict(features), model.predict_proba(features)[:, 1]
    positive = model.classes_[1]
    expected = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted, pos_label=positive),
        "recall": sk.recall_score(labels, predicted, pos_label=positive),
        "f1": sk.f1_score(labels, predicted, pos_label=positive),
        "auc": sk.roc_auc_score(labels == positive, scores),
        "average_precision": sk.average_precision_score(labels == positive, scores),
        "log_loss": sk.log_loss(labels, model.predict_proba(features)),
    }
    assert {k: m.value for k, m in info.metrics.items()} == pytest.approx(expected, rel=1e-6)
    for name, m in info.metrics.items():
        assert m.low is not None and m.high is not None and m.value is not None
        assert m.low <= m.value <= m.high, name
    assert info.rows == len(frame) and info.data == data and info.target == "label"
    assert info.classes == list(model.classes_)
    assert info.confusion_matrix == sk.confusion_matrix(labels, predicted).tolist()

    html = client.evaluations.report(info.id, tmp_path / "report.html")
    assert (tmp_path / "report.html").read_bytes() == html
    page = _page(html)
    assert {"metrics", "confusion-matrix", "roc-curve", "pr-curve"} <= page.ids
    assert page.tags.count("polyline") == 2
    _self_contained(page)
    assert client.evaluations.get(info.id) == info
    assert [e.id for e in client.evaluations.list(f"cancer@{version}")] == [info.id]


def test_multiclass_curves_are_one_vs_rest(client: Client, tmp_path: Path) -> None:
    frame = kit.iris_frame()
    data = kit.ingest(client, tmp_path, frame, "iris")
    model, columns = kit.fit_classifier(frame, "species", 2)
    version = kit.register(client, tmp_path, "iris-model", model, columns, "species")
    info = client.evaluations.evaluate(f"iris-model@{version}", data)
    features, labels = frame[columns].to_numpy(), frame["species"].to_numpy()
    probabilities = model.predict_proba(features)
    assert info.metrics["auc"].value == pytest.approx(
        sk.roc_auc_score(labels, probabilities, multi_class="ovr"), rel=1e-6
    )
    assert info.metrics["f1"].value == pytest.approx(
        sk.f1_score(labels, model.predict(features), average="macro"), rel=1e-6
    )
    page = _page(client.evaluations.report(info.id))
    assert page.tags.count("polyline") == 6  # three classes, two charts
    assert sum("class virginica" in t for t in page.text) >= 2


def test_regression_report_has_residual_plots(client: Client, tmp_path: Path) -> None:
    frame = kit.diabetes_frame()
    data = kit.ingest(client, tmp_path, frame, "diabetes")
    model, columns = kit.fit_regressor(frame, "progression", 10)
    version = kit.register(client, tmp_path, "diabetes-model", model, columns, "progression")
    info = client.evaluations.evaluate(f"diabetes-model@{version}", data)
    actual, predicted = frame["progression"].to_numpy(), model.predict(frame[columns].to_numpy())
    expected = {
        "rmse": np.sqrt(sk.mean_squared_error(actual, predicted)),
        "mse": sk.mean_squared_error(actual, predicted),
        "mae": sk.mean_absolute_error(actual, predicted),
        "r2": sk.r2_score(actual, predicted),
        "max_error": sk.max_error(actual, predicted),
        "mape": sk.mean_absolute_percentage_error(actual, predicted),
    }
    assert {k: m.value for k, m in info.metrics.items()} == pytest.approx(expected, rel=1e-6)
    assert info.confusion_matrix is None
    page = _page(client.evaluations.report(info.id))
    assert {"residual-plot", "prediction-plot", "residual-histogram"} <= page.ids
    assert page.tags.count("circle") == 2 * len(frame)
    _self_contained(page)


def test_user_strings_are_escaped_in_the_report(client: Client, tmp_path: Path) -> None:
    frame = kit.iris_frame()
    frame["species"] = frame["species"].map(lambda s: f"<script>alert('{s}')</script>")
    data = kit.ingest(client, tmp_path, frame, "iris-script")
    model, columns = kit.fit_classifier(frame, "species", 2)
    version = kit.register(client, tmp_path, "iris-script-model", model, columns, "species")
    info = client.evaluations.evaluate(f"iris-script-model@{version}", data, resamples=20)
    html = client.evaluations.report(info.id)
    assert b"<script" not in html and b"&lt;script&gt;" in html
    _self_contained(_page(html))


def test_baseline_and_thresholds_give_a_verdict(client: Client, tmp_path: Path) -> None:
    frame = kit.cancer_frame()
    data = kit.ingest(client, tmp_path, frame, "cancer-data")
    weak, strong = (kit.fit_classifier(frame, "label", n) for n in (2, 10))
    kit.register(client, tmp_path, "cancer", *weak, "label")
    kit.register(client, tmp_path, "cancer", *strong, "label")
    info = client.evaluations.evaluate(
        "cancer@2",
        data,
        baseline="cancer@1",
        thresholds=["auc>=0.9", "log_loss<=0.5"],
        min_absolute_change={"auc": 0.001},
    )
    assert info.passed is True and info.baseline == "cancer@1"
    assert info.baseline_metrics is not None
    assert info.baseline_metrics["auc"] < info.metrics["auc"].value  # type: ignore[operator]
    backwards = client.evaluations.evaluate(
        "cancer@1", data, baseline="cancer@2", min_absolute_change={"auc": 0.001}
    )
    assert backwards.passed is False
    [failed] = [r for r in backwards.validation if not r.passed]
    assert failed.metric == "auc" and failed.rule == "min_absolute_change=0.001"
    page = _page(client.evaluations.report(backwards.id))
    assert "validation" in page.ids
    # cancer@1 as the first call's baseline, the two asked for; the second call's baseline
    # (cancer@2 on the same data) was evaluated already and is reused
    assert len(client.evaluations.list("cancer")) == 3


BAD_INPUT: list[tuple[dict[str, object], type[Exception], str, str]] = [
    ({"thresholds": {"bogus": {"threshold": 1}}}, InvalidInput, "thresholds.bogus", "unknown"),
    ({"thresholds": {"rmse": {"threshold": 1}}}, InvalidInput, "thresholds.rmse", "unknown"),
    (
        {"thresholds": {"auc": {"threshold": 0.5, "maximum": 1}}},
        InvalidInput,
        "thresholds.auc.maximum",
        "",
    ),
    ({"data": "no-such-data"}, NotFound, "dataset", "does not exist"),
    ({"data": "features-only"}, InvalidInput, "data", "no column 'label'"),
    ({"baseline": "cancer@9"}, NotFound, "version", "has no version 9"),
    ({"resamples": 10**6}, InvalidInput, "resamples", "between"),
    ({"confidence": 1.5}, InvalidInput, "confidence", "below 1"),
    ({"seed": -1}, InvalidInput, "seed", "negative"),
]


def test_bad_input_is_refused_naming_the_field(client: Client, tmp_path: Path) -> None:
    frame = kit.cancer_frame()
    kit.ingest(client, tmp_path, frame, "cancer-data")
    kit.ingest(client, tmp_path, frame.drop(columns=["label"]), "features-only")
    kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 3), "label")
    for arguments, error, field, words in BAD_INPUT:
        call = {"ref": "cancer@1", "data": "cancer-data", **arguments}
        with pytest.raises(error) as refused:
            client.transport.call("evaluation.evaluate", **call)
        assert getattr(refused.value, "field", None) == field, arguments
        assert words in str(refused.value), arguments
    assert client.evaluations.list("cancer") == []


def test_data_is_scored_batch_by_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches over a partitioned version give the metrics one batch gives."""
    from shipyard.config import Settings
    from shipyard.evaluation import _scoring

    frame = kit.cancer_frame()
    with Client(settings=Settings(home=tmp_path / "home")) as client:
        path = tmp_path / "cancer.parquet"
        frame.to_parquet(path, index=False)
        whole = client.datasets.ingest(path, "whole").ref
        parts = client.datasets.ingest(path, "parts", partition_by="label").ref
        kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 4), "label")
        one = client.evaluations.evaluate("cancer@1", whole, resamples=0)
        seen: list[int] = []
        predict = _scoring._features

        def recording(predictor: object, batch: pa.RecordBatch) -> object:
            seen.append(batch.num_rows)
            return predict(predictor, batch)  # type: ignore[arg-type]

        monkeypatch.setattr(_scoring, "BATCH_ROWS", 50)
        monkeypatch.setattr(_scoring, "_features", recording)
        many = client.evaluations.evaluate("cancer@1", parts, resamples=0)
    assert max(seen) <= 50 and sum(seen) == len(frame)
    assert {k: m.value for k, m in many.metrics.items()} == pytest.approx(
        {k: m.value for k, m in one.metrics.items()}, rel=1e-12
    )
