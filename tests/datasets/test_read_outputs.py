"""Point-in-time training sets and batch outputs are dataset versions, read the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightgbm
import numpy as np
import pytest
from tests.conftest import LiveServer
from tests.edge.edgekit import ingest_frame, numeric_frame, register_fitted, signature_of
from tests.features.conftest import write_feature_data

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none


def test_a_point_in_time_training_set_is_read_like_any_version(
    client: Client, tmp_path: Path
) -> None:
    paths = write_feature_data(tmp_path / "data")
    for name in ("drivers", "customers", "trips"):
        client.datasets.ingest(paths[name], name)
    client.features.apply(paths["views"])
    info = client.features.get_historical_features(
        "trips", ["driver_stats", "customer_spend:spend"], "training"
    )
    missing = client.datasets.read(
        info.ref,
        columns=["driver_id", "customer_spend__spend"],
        filter="driver_stats__rate is null",
    )
    assert missing.to_pydict() == {"driver_id": [1, 9], "customer_spend__spend": [30.0, 20.0]}
    frame = client.datasets.read(info.ref, as_pandas=True)
    assert len(frame) == info.rows and frame.columns[-1] == "customer_spend__spend"


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[Platform, Client]]:
    platform = Platform.open(Settings(home=tmp_path / "home"))
    bootstrap(platform)
    key = issue_admin_key_if_none(platform)
    assert key is not None
    server = LiveServer(create_app(platform))
    client = Client(transport=HttpTransport(server.url, key.token))
    yield platform, client
    client.close()
    server.close()
    platform.close()


def test_a_batch_transform_output_is_read_like_any_version(
    remote: tuple[Platform, Client],
) -> None:
    platform, client = remote
    rows = numeric_frame(2000, 3, seed=5)
    rows.insert(0, "id", np.arange(len(rows), dtype=np.int64))
    features = ["f0", "f1", "f2"]
    booster = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1)
    booster.fit(rows[features].to_numpy(), rows["y"])
    dataset = ingest_frame(platform, "numbers", rows)
    register_fitted(
        platform, "m", booster, signature_of(rows[[*features, "y"]], "y", [0, 1]), dataset
    )
    job = client.batch.transform("m@1", "numbers@1", "scored", keep_columns=["id"], timeout=300)
    assert job.status == "succeeded" and job.output_version is not None
    positives = client.datasets.read(job.output_version, columns=["id"], filter="prediction = 1")
    expected = np.flatnonzero(booster.predict(rows[features].to_numpy()) == 1)
    assert positives.column("id").to_pylist() == expected.tolist()
