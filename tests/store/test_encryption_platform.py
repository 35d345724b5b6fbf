"""Every kind of object the services write is sealed at rest, on a local store and on S3.

A fresh home writes through the real services: a dataset ingested from CSV, a run's
artifact and logged model, a training job's model, an evaluation and a contract
validation report, an endpoint's captured requests, a monitor run's result and report.
Then the whole store is read raw: every object must be sealed, and no distinctive string of
the inputs (values, feature names, the artifact's text) may appear anywhere. The metadata
database must not hold an API key's or a webhook's secret in clear either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tests.endpoints.dataplanekit import serving, wait_for
from tests.monitoring.monitorkit import captured_rows

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.schemas.alarms import WebhookAction
from shipyard.serving import ServingSettings
from shipyard.store.blobs import open_blob_store
from shipyard.store.blobs._crypto import MAGIC, SEALED

FEATURES = ["quokka_girth", "marmalade_index", "colour"]
SECRETS = [
    b"quokka_girth",  # a feature name: in Parquet footers, models, capture, reports
    b"marmalade_index",
    b"zanzibarite",  # category values
    b"tangerinite",
    b"artifact text nobody may read",
]


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = rng.choice(np.array(["zanzibarite", "tangerinite", "obsidianite"]), rows)
    girth, index = rng.normal(size=rows), rng.normal(size=rows)
    verdict = (girth + 0.5 * (colour == "zanzibarite") + rng.normal(0, 0.5, rows) > 0).astype(int)
    return pd.DataFrame(
        {"quokka_girth": girth, "marmalade_index": index, "colour": colour, "verdict": verdict}
    )


def _write_everything(platform: Platform, tmp_path: Path, *, full: bool) -> list[bytes]:
    """Write every kind of object through the services (``full``; else a dataset, an
    artifact and a validation report); return the secrets kept in metadata."""
    data = _frame(400, seed=1)
    csv = tmp_path / "quokkas.csv"
    data.to_csv(csv, index=False)
    artifact = tmp_path / "notes.txt"
    artifact.write_text("artifact text nobody may read")
    with Client(settings=platform.settings) as client:
        version = client.datasets.ingest(csv, "quokkas")
        ref = f"quokkas@{version.version}"
        contract = client.contracts.suggest(ref, name="quokkas")
        client.contracts.apply(contract.contract)
        assert client.contracts.validate(ref, "quokkas").passed
        with client.start_run(experiment="sealed") as run:
            run.log_artifact(artifact)
        if full:  # first: serving issues the admin's first key
            _models_endpoints_monitors(platform, client, ref, data)
        key = client.iam.create_api_key("admin").token
        assert key is not None
        secrets = [key.split("_", 2)[2].encode()]  # sy_<key id>_<secret>: '_' may be in it
        if full:
            webhook = "webhook-secret-" + "x7" * 8
            client.alarms.put(
                "errors",
                "endpoint:quokka",
                "error_rate",
                ">",
                0.5,
                actions=[WebhookAction(url="http://127.0.0.1:9/hook", secret=webhook)],
            )
            secrets.append(webhook.encode())
    return secrets


def _models_endpoints_monitors(
    platform: Platform, client: Client, ref: str, data: pd.DataFrame
) -> None:
    """A logged model, a trained one, an evaluation, capture and a monitor run."""
    numeric = data[["quokka_girth", "marmalade_index"]]
    with client.start_run(experiment="sealed") as run:
        run.log_model(
            LogisticRegression(C=0.123456789).fit(numeric, data["verdict"]),
            input_example=numeric.head(),
            target="verdict",
        )
    client.models.register("by-hand", run.id)
    job = client.training.train(
        {
            "dataset": ref,
            "target": "verdict",
            "task": "classification",
            "estimator": "lightgbm.LGBMClassifier",
            "params": {"n_estimators": 5, "num_leaves": 4, "min_child_samples": 5},
            "experiment": "sealed",
        }
    )
    assert job.status == "succeeded", job.message
    assert job.run_id is not None
    model = client.models.register("quokka", job.run_id)
    evaluation = client.evaluations.evaluate(f"quokka@{model.version}", ref, resamples=10)
    assert client.evaluations.report(evaluation.id).startswith(b"<!")

    client.endpoints.create(
        "quokka",
        f"quokka@{model.version}",
        capture={"enabled": True, "sampling_percent": 100, "mode": "both"},
    )
    client.monitors.create("quokka-mon", endpoint="quokka", schedule="1h", kinds=["data"])
    settings = ServingSettings(poll_seconds=0.05, report_seconds=0.2, capture_flush_rows=5)
    start = datetime.now(UTC)
    with serving(platform, "quokka", settings) as served, served.client() as http:
        rows = _frame(20, seed=2)[FEATURES].to_dict(orient="records")
        for row in rows:
            answer = http.post("/invocations", json={"dataframe_records": [row]})
            assert answer.status_code == 200, answer.text
        wait_for(lambda: captured_rows(platform, "quokka") >= 20)
    end = datetime.now(UTC)
    run_info = client.monitors.run("quokka-mon", window_start=start, window_end=end)
    assert run_info.status == "succeeded" and run_info.requests == 20, run_info
    assert b"quokka_girth" in client.monitors.report("quokka-mon")


def _hits(objects: Iterator[tuple[str, bytes]]) -> tuple[int, list[str], list[str]]:
    """How many objects; those not sealed; and (object, secret) pairs found in clear."""
    count, unsealed, found = 0, [], []
    for name, raw in objects:
        count += 1
        if not raw.startswith(MAGIC + bytes([SEALED])):
            unsealed.append(name)
        found += [f"{name}: {s!r}" for s in SECRETS if s in raw]
    return count, unsealed, found


def _local_objects(root: Path) -> Callable[[], Iterator[tuple[str, bytes]]]:
    def objects() -> Iterator[tuple[str, bytes]]:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                name = path.relative_to(root).as_posix()
                if name.startswith("sha256/"):
                    yield name, path.read_bytes()
                else:  # scratch and stamps: not objects, but no plaintext either
                    assert not any(s in path.read_bytes() for s in SECRETS), name

    return objects


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def sealed_home(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Platform, Callable[[], Iterator[tuple[str, bytes]]]]]:
    """A fresh home with the default settings (SQLite; encryption on), its blobs on a
    local directory or an S3 bucket; and a way to read every stored object raw."""
    home = tmp_path / "home"
    if request.param == "local":
        settings = Settings(home=home, key_cache_seconds=0.2)
        objects = _local_objects(home / "blobs")
    else:
        options: dict[str, Any] = request.getfixturevalue("s3_storage_options")
        client = request.getfixturevalue("s3_client")
        bucket, prefix = options["url"].removeprefix("s3://").split("/", 1)
        settings = Settings(
            home=home,
            key_cache_seconds=0.2,
            blob_url=options["url"],
            blob_storage_options=options["storage_options"],
        )

        def objects() -> Iterator[tuple[str, bytes]]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for page in pages:
                for item in page.get("Contents", []):
                    body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                    yield item["Key"].removeprefix(f"{prefix}/"), body

    platform = Platform.open(settings)
    from shipyard.security import bootstrap

    bootstrap(platform)
    try:
        yield platform, objects
    finally:
        platform.close()


def test_every_object_the_services_write_is_sealed(
    sealed_home: tuple[Platform, Callable[[], Iterator[tuple[str, bytes]]]], tmp_path: Path
) -> None:
    """Every writer on the local store (40-70 s on a loaded 2-core machine: a training job, a served
    endpoint); on S3 the dataset and artifact writers (the same store API below them)."""
    platform, objects = sealed_home
    full = platform.settings.blob_url is None
    secrets = _write_everything(platform, tmp_path, full=full)

    count, unsealed, found = _hits(objects())
    print(f"scanned {count} stored objects: {len(unsealed)} unsealed, {len(found)} plaintext hits")
    # full: dataset, artifacts, two models and their metadata, evaluation and validation
    # reports, capture files, monitor result and report
    assert count >= (12 if full else 2), count
    assert unsealed == [] and found == []
    database = b"".join(
        p.read_bytes() for p in platform.settings.home.glob("shipyard.db*") if p.is_file()
    )
    assert database and not [s for s in secrets if s in database]

    # the scan is telling: the same store with encryption off keeps the CSV's bytes in clear
    plain = open_blob_store(
        platform.settings.blobs_url,
        storage_options=platform.settings.blob_storage_options,
        encryption={**platform.settings.blob_encryption, "seal_writes": False},
    )
    plain.put_bytes((tmp_path / "quokkas.csv").read_bytes())
    count_after, unsealed, found = _hits(objects())
    assert count_after == count + 1 and len(unsealed) == 1
    assert any("zanzibarite" in hit for hit in found)
