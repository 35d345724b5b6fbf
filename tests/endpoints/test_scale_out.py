"""The whole path on PostgreSQL and S3, switched by configuration alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from tests.conftest import LiveServer
from tests.fixtures.lifecycle import train_and_register

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer, issue_admin_key_if_none


def test_postgres_and_s3_end_to_end(
    tmp_path: Path, postgres_url: str, s3_storage_options: dict[str, Any], s3_client: Any
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=postgres_url,
        blob_url=s3_storage_options["url"],
        blob_storage_options=s3_storage_options["storage_options"],
        key_cache_seconds=0,
    )
    with Client(settings=settings) as client:
        train_and_register(client, tmp_path)
        client.endpoints.create("bc", "bc-model@1")
    bucket = s3_storage_options["url"].removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) >= 3  # dataset version, model, model metadata
    assert all(k.startswith("shipyard/sha256/") for k in keys)
    assert not (tmp_path / "home" / "blobs").exists()

    platform = Platform.open(settings)
    token = issue_admin_key_if_none(platform)
    assert token is not None
    app = build_serving_app(platform, "bc")
    live = LiveServer(app)
    try:
        frame = pd.read_csv(tmp_path / "breast_cancer.csv").drop(columns=["diagnosis"]).head(3)
        response = httpx.post(
            f"{live.url}/invocations",
            json={"dataframe_records": frame.to_dict(orient="records")},
            headers={"Authorization": f"Bearer {token.token}"},
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 3
    finally:
        live.close()
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        app.authorizer.stop()
        platform.close()
