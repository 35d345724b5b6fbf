"""Endpoints that add online features: a real server, real online stores, real models.

The request carries entity keys and the inputs the store does not hold; each answer must
equal the model's prediction on features joined independently (pandas) from the source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from tests.conftest import LiveServer
from tests.endpoints.dataplanekit import Served, wait_for

from shipyard.api import create_app
from shipyard.cli import main
from shipyard.cli._context import STATE
from shipyard.client import Client, HttpTransport
from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.flavors import ColumnSpec, ModelSignature, save_model
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import (
    MODEL_ARTIFACT,
    MODEL_META,
    load_version_predictor,
    register_model,
    resolve,
)
from shipyard.security import CachedKeyAuthorizer, bootstrap, context_for, create_api_key
from shipyard.serving import ServingSettings, read_captures
from shipyard.tracking import start_run, store_artifact

INPUTS = ["amount", "rate", "trips"]
DRIVERS = 40
UNKNOWN = 999


def signature(names: list[str], task: str = "regression") -> ModelSignature:
    kinds = {"amount": "float", "rate": "float", "trips": "integer"}
    return ModelSignature(
        inputs=[ColumnSpec(name=n, type=kinds[n]) for n in names],  # type: ignore[arg-type]
        task=task,  # type: ignore[arg-type]
        target="y",
        classes=[0, 1] if task == "classification" else None,
    )


def training_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "amount": rng.uniform(0, 100, 300),
            "rate": rng.uniform(0, 5, 300),
            "trips": rng.integers(0, 50, 300),
        }
    )
    frame["y"] = frame.amount * 0.1 + frame.rate * 2 + frame.trips * 0.05
    return frame


def booster(names: list[str]) -> lgb.Booster:
    frame = training_frame()
    params = {"objective": "regression", "verbose": -1, "num_threads": 1, "num_leaves": 7}
    data = lgb.Dataset(frame[names].to_numpy(dtype=np.float64), frame["y"])
    return lgb.train(params, data, num_boost_round=10)


def register(platform: Platform, estimator: object, sig: ModelSignature, name: str) -> int:
    """Register a fitted estimator under ``name``, as a training job would."""
    flavor, data = save_model(estimator)
    with platform.db.session() as session:
        run = start_run(session, experiment="enriched", principal="admin")
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, data)
        meta = {"flavor": flavor, "digest": artifact.digest, "signature": sig.model_dump()}
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        run.status = "finished"
        run.end_time = utcnow()
        run_id = run.id
    return register_model(context_for(platform, "admin"), name, run_id).version


@contextmanager
def serving(
    platform: Platform, endpoint: str, settings: ServingSettings | None = None
) -> Iterator[Served]:
    """``endpoint`` served on 127.0.0.1 as ``shipyard serve`` builds it, with a full-access key."""
    token = create_api_key(context_for(platform, "admin"), "admin").token
    assert token
    settings = settings or ServingSettings(poll_seconds=0.05, report_seconds=0.2)
    app = build_serving_app(platform, endpoint, settings=settings)
    live = LiveServer(app)
    try:
        yield Served(app, live, token)
    finally:
        live.close()
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        app.authorizer.stop()


def driver_table() -> pd.DataFrame:
    """Two snapshots per driver; the online store must serve the later one."""
    rng = np.random.default_rng(5)
    ids = np.arange(1, DRIVERS + 1)
    old = pd.DataFrame(
        {
            "driver_id": ids,
            "ts": datetime(2024, 1, 1),
            "rate": rng.uniform(0, 5, DRIVERS),
            "trips": rng.integers(0, 50, DRIVERS),
        }
    )
    new = old.assign(
        ts=datetime(2024, 1, 2),
        rate=rng.uniform(0, 5, DRIVERS),
        trips=rng.integers(0, 50, DRIVERS),
    )
    return pd.concat([new.iloc[::2], old, new.iloc[1::2]], ignore_index=True)


def joined(requests: pd.DataFrame, drivers: pd.DataFrame) -> pd.DataFrame:
    """The model input computed without Shipyard: each driver's latest row, left-joined."""
    latest = drivers.sort_values("ts").groupby("driver_id").last().reset_index()
    return requests.merge(latest[["driver_id", "rate", "trips"]], on="driver_id", how="left")


@pytest.fixture(params=["sqlite", "redis"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """A platform whose online store is the default SQLite file or the live Redis."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    settings = Settings(home=tmp_path / "home", key_cache_seconds=0.2, online_store_url=url)
    opened = Platform.open(settings)
    bootstrap(opened)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(home=tmp_path / "home", key_cache_seconds=0.2)
    opened = Platform.open(settings)
    bootstrap(opened)
    yield opened
    opened.close()


def with_features(platform: Platform, tmp_path: Path) -> tuple[Client, pd.DataFrame]:
    """The drivers source ingested, the view applied and materialized; a regressor served."""
    client = Client(settings=platform.settings)
    drivers = driver_table()
    table = pa.Table.from_pandas(drivers, preserve_index=False).cast(
        pa.schema(
            [
                ("driver_id", pa.int64()),
                ("ts", pa.timestamp("us")),
                ("rate", pa.float64()),
                ("trips", pa.int64()),
            ]
        )
    )
    pq.write_table(table, tmp_path / "drivers.parquet")
    client.datasets.ingest(tmp_path / "drivers.parquet", "drivers")
    client.features.apply(
        [
            {
                "name": "driver_stats",
                "source": "drivers",
                "entities": ["driver_id"],
                "event_time": "ts",
                "features": ["rate", "trips"],
            }
        ]
    )
    assert client.features.materialize("driver_stats").rows == DRIVERS
    register(platform, booster(INPUTS), signature(INPUTS), "fare")
    client.endpoints.create("fares", "fare@1")
    return client, drivers


def model_answer(platform: Platform, ref: str, frame: pd.DataFrame) -> list[Any]:
    with platform.db.session() as session:
        _, version = resolve(session, parse_reference(ref))
    predictor = load_version_predictor(platform, version)
    names = predictor.signature.input_names
    return list(predictor.predict(frame[names].to_numpy(dtype=np.float64)).predictions)


def requests_frame(ids: list[int]) -> pd.DataFrame:
    rng = np.random.default_rng(len(ids))
    return pd.DataFrame({"driver_id": ids, "amount": rng.uniform(0, 100, len(ids)).round(3)})


def test_enriched_endpoint_answers_on_the_joined_features(
    platform: Platform, tmp_path: Path
) -> None:
    client, drivers = with_features(platform, tmp_path)
    binding = client.features.bind_endpoint(
        "fares", [{"view": "driver_stats", "features": ["rate", "trips"]}]
    )
    assert binding.inputs == ["rate", "trips"]
    ids = [3, 17, 40, 1, 3, 22]
    frame = requests_frame(ids)
    expected = model_answer(platform, "fare@1", joined(frame, drivers))
    records = frame.to_dict("records")
    v2_body = {
        "id": "r-1",
        "inputs": [
            {"name": "driver_id", "shape": [6], "datatype": "INT64", "data": ids},
            {"name": "amount", "shape": [6, 1], "datatype": "FP64", "data": list(frame.amount)},
        ],
    }
    with serving(platform, "fares") as served, served.client() as http:
        bodies: list[dict[str, Any]] = [
            {"dataframe_records": records},
            {"dataframe_split": frame.to_dict(orient="split", index=False)},
            {"inputs": frame.to_dict(orient="list")},
            {"instances": records},
        ]
        for body in bodies:
            answer = http.post("/invocations", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["predictions"] == expected
        csv = http.post(
            "/invocations",
            content=frame.to_csv(index=False),
            headers={"Content-Type": "text/csv"},
        )
        assert csv.status_code == 200, csv.text
        assert csv.json()["predictions"] == expected
        v2 = http.post("/v2/models/fares/infer", json=v2_body)
        assert v2.status_code == 200, v2.text
        assert v2.json()["id"] == "r-1"
        assert v2.json()["outputs"][0]["data"] == expected
        one = http.post("/invocations", json={"dataframe_records": records[2:3]})
        assert one.json()["predictions"] == expected[2:3]
        metrics = http.get("/metrics").text
    assert 'shipyard_serving_online_feature_rows_total{count="rows",endpoint="fares"} 37.0' in (
        metrics
    )
    client.close()


def test_unknown_entities_get_nulls_or_a_clear_422(
    sqlite_platform: Platform, tmp_path: Path
) -> None:
    platform = sqlite_platform
    client, drivers = with_features(platform, tmp_path)
    client.features.bind_endpoint("fares", [{"view": "driver_stats", "features": ["rate"]}])
    frame = requests_frame([5, UNKNOWN])
    frame["trips"] = [4, 9]
    with serving(platform, "fares") as served, served.client() as http:
        # LightGBM takes the missing rate as NaN, exactly as on the independent join.
        answer = http.post("/invocations", json={"dataframe_records": frame.to_dict("records")})
        assert answer.status_code == 200, answer.text
        merged = frame.merge(
            drivers.sort_values("ts")
            .groupby("driver_id")
            .last()
            .reset_index()[["driver_id", "rate"]],
            on="driver_id",
            how="left",
        )
        assert np.isnan(merged.rate[1])
        assert answer.json()["predictions"] == model_answer(platform, "fare@1", merged)
        # An integer input has no null: the missing entity is named, not a 500.
        client.features.bind_endpoint(
            "fares", [{"view": "driver_stats", "features": ["rate", "trips"]}]
        )
        wait_for(lambda: served.app.config.enricher.input_views.keys() == {"rate", "trips"})
        missing = http.post(
            "/invocations",
            json={
                "dataframe_records": [
                    {"driver_id": 5, "amount": 1.0},
                    {"driver_id": UNKNOWN, "amount": 2.0},
                ]
            },
        )
        assert missing.status_code == 422, missing.text
        error = missing.json()["error"]
        assert error["type"] == "MissingFeatures" and error["field"] == "trips"
        assert f"driver_id={UNKNOWN}" in error["message"] and "driver_stats" in error["message"]
    # A model that cannot take NaN (logistic regression) gets a 422 naming the entity too.
    train = training_frame()
    logistic = LogisticRegression(max_iter=500).fit(
        train[INPUTS].to_numpy(dtype=np.float64), (train.y > train.y.median()).astype(int)
    )
    register(platform, logistic, signature(INPUTS, "classification"), "risky")
    client.endpoints.create("risk", "risky@1")
    client.features.bind_endpoint("risk", [{"view": "driver_stats", "features": ["rate"]}])
    with serving(platform, "risk") as served, served.client() as http:
        body = {"dataframe_records": [{"driver_id": UNKNOWN, "amount": 3.0, "trips": 2}]}
        refused = http.post("/invocations", json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["field"] == "rate" and f"driver_id={UNKNOWN}" in error["message"]
        known = http.post(
            "/invocations",
            json={"dataframe_records": [{"driver_id": 7, "amount": 3.0, "trips": 2}]},
        )
        assert known.status_code == 200, known.text
    client.close()


def test_bad_requests_name_the_column(sqlite_platform: Platform, tmp_path: Path) -> None:
    platform = sqlite_platform
    client, _ = with_features(platform, tmp_path)
    client.features.bind_endpoint(
        "fares",
        [
            {
                "view": "driver_stats",
                "features": ["rate", "trips"],
                "entities": {"driver_id": "driver"},
            }
        ],
    )
    cases: list[tuple[dict[str, Any], int, str | None, str]] = [
        ({"dataframe_records": [{"amount": 1.0}]}, 400, "driver", "missing entity key"),
        (
            {"dataframe_records": [{"driver": 1, "amount": 1.0, "rate": 2.0}]},
            400,
            "rate",
            "comes from the online store",
        ),
        ({"dataframe_records": [{"driver": 1, "amount": 1.0, "x": 2}]}, 400, "x", "unknown"),
        ({"dataframe_records": [{"driver": 1}]}, 400, "amount", "missing column"),
        ({"dataframe_records": [{"driver": "one", "amount": 1.0}]}, 400, "driver", "integer"),
        ({"dataframe_records": [{"driver": None, "amount": 1.0}]}, 400, "driver", "no entity key"),
        ({"dataframe_records": [{"driver": 1, "amount": "a"}]}, 400, "amount", "number"),
        ({"instances": [[1, 2.0]]}, 400, "instances", "named columns"),
        (
            {"dataframe_records": [{"driver": 1, "amount": 1.0}, {"driver": 2}]},
            400,
            "amount",
            "other columns",
        ),
    ]
    with serving(platform, "fares") as served, served.client() as http:
        for body, status, field, text in cases:
            answer = http.post("/invocations", json=body)
            assert answer.status_code == status, (body, answer.text)
            error = answer.json()["error"]
            assert error["field"] == field and text in error["message"], (body, error)
        matrix = http.post(
            "/v2/models/fares/infer",
            json={"inputs": [{"name": "m", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]},
        )
        assert matrix.status_code == 400 and "one tensor per column" in matrix.text
        assert http.post("/invocations", content=b"{").status_code == 400
        good = http.post("/invocations", json={"dataframe_records": [{"driver": 2, "amount": 1.0}]})
        assert good.status_code == 200, good.text
    client.close()


def test_binding_changes_reach_a_running_server(sqlite_platform: Platform, tmp_path: Path) -> None:
    platform = sqlite_platform
    client, drivers = with_features(platform, tmp_path)
    frame = requests_frame([2, 9])
    full = joined(frame, drivers)
    expected = model_answer(platform, "fare@1", full)
    full_body = {"dataframe_records": full[INPUTS].to_dict("records")}
    keyed = {"dataframe_records": frame.to_dict("records")}
    api = LiveServer(create_app(platform))
    token = create_api_key(context_for(platform, "admin"), "admin").token
    assert token
    rest = Client(transport=HttpTransport(api.url, token))  # the binding goes over REST
    with serving(platform, "fares") as served, served.client() as http:
        assert http.post("/invocations", json=full_body).json()["predictions"] == expected
        assert http.post("/invocations", json=keyed).status_code == 400
        generation = served.app.config.generation
        rest.features.bind_endpoint(
            "fares", [{"view": "driver_stats", "features": ["rate", "trips"]}]
        )
        wait_for(lambda: served.app.config.generation > generation)
        assert http.post("/invocations", json=keyed).json()["predictions"] == expected
        sent = http.post("/invocations", json=full_body)
        assert sent.status_code == 400 and sent.json()["error"]["field"] == "rate"
        # Rebind only ``rate``: ``trips`` comes from the request again.
        enricher = served.app.config.enricher
        rest.features.bind_endpoint("fares", [{"view": "driver_stats", "features": ["rate"]}])
        wait_for(lambda: served.app.config.enricher is not enricher)
        partial = frame.assign(trips=full.trips)
        answer = http.post("/invocations", json={"dataframe_records": partial.to_dict("records")})
        assert answer.json()["predictions"] == expected
        rest.features.unbind_endpoint("fares")
        wait_for(lambda: served.app.config.enricher is None)
        assert http.post("/invocations", json=full_body).json()["predictions"] == expected
    rest.close()
    api.close()
    client.close()


def test_batching_shadow_and_capture_on_enriched_requests(
    sqlite_platform: Platform, tmp_path: Path
) -> None:
    """Micro-batched requests, a shadow with another signature, captures of the model input."""
    platform = sqlite_platform
    client, drivers = with_features(platform, tmp_path)
    register(platform, booster(["rate", "trips"]), signature(["rate", "trips"]), "fare-lite")
    client.endpoints.add_variant("fares", "lite", "fare-lite@1", shadow_percent=100)
    client.endpoints.configure(
        "fares",
        capture={"enabled": True, "sampling_percent": 100, "mode": "both"},
        batching={"enabled": True, "max_batch_size": 16, "max_wait_ms": 2},
    )
    client.features.bind_endpoint(
        "fares", [{"view": "driver_stats", "features": ["rate", "trips"]}]
    )
    ids = list(range(1, 21))
    frame = requests_frame(ids)
    full = joined(frame, drivers)
    expected = model_answer(platform, "fare@1", full)
    settings = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_seconds=0.1)
    with serving(platform, "fares", settings) as served:
        import concurrent.futures

        def post(i: int) -> tuple[int, float]:
            with served.client() as http:
                body = {"dataframe_records": [frame.to_dict("records")[i]]}
                answer = http.post("/invocations", json=body, headers={"X-Request-Id": f"q{i}"})
                assert answer.status_code == 200, answer.text
                return i, answer.json()["predictions"][0]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = dict(pool.map(post, range(len(ids))))
        assert [answers[i] for i in range(len(ids))] == expected
        assert served.app.config.default.batcher is not None
        assert served.app.config.default.batcher.rows >= len(ids)
        wait_for(
            lambda: (
                served.app.shadows.totals.get("lite") is not None
                and served.app.shadows.totals["lite"].requests >= len(ids)
            )
        )
        assert served.app.shadows.totals["lite"].errors == 0
    captured = read_captures(platform, "fares").to_pylist()
    live = {r["request_id"]: json.loads(r["input"]) for r in captured if r["variant"] == "primary"}
    assert len(live) == len(ids)
    first = live["q0"]
    assert first["columns"] == INPUTS
    assert first["data"] == [full.loc[0, INPUTS].astype(float).tolist()]
    shadow = [json.loads(r["input"]) for r in captured if r["variant"] == "lite"]
    assert shadow and all(s["columns"] == ["rate", "trips"] for s in shadow)
    client.close()


def test_bind_from_the_cli(
    sqlite_platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = with_features(sqlite_platform, tmp_path)
    STATE.url, STATE.api_key = None, None
    STATE._settings, STATE._client = sqlite_platform.settings, None
    try:
        code = main(
            [
                "features",
                "bind",
                "fares",
                "--view",
                "driver_stats",
                "-f",
                "rate",
                "-f",
                "trips=trips",
                "--json",
            ]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["sources"][0]["features"] == {"rate": "rate", "trips": "trips"}
        binding = tmp_path / "binding.yaml"
        binding.write_text("sources:\n  - view: driver_stats\n    features: {trips: trips}\n")
        code = main(["features", "bind", "fares", str(binding)])
        out, err = capsys.readouterr()
        assert code == 0 and "trips" in out, err
        code = main(["features", "bind", "fares", "-f", "rate"])
        _, err = capsys.readouterr()
        assert code != 0 and "--view" in err
        code = main(["features", "bind", "fares", "--view", "driver_stats", "-f", "speed"])
        _, err = capsys.readouterr()
        assert code != 0 and "no feature 'speed'" in err
        code = main(["features", "bind", "fares", "--view", "driver_stats", "-f", "rate"])
        assert code == 0, capsys.readouterr().err
    finally:
        if STATE._client is not None:
            STATE._client.close()
        STATE._settings, STATE._client = None, None
    assert client.features.endpoint_binding("fares").inputs == ["rate"]
    client.close()
